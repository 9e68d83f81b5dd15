package io.github.backupcodes.keycloak.bridge;

import java.util.Locale;
import java.util.Optional;

/** Download formats the setup page offers; anything else from the form is ignored. */
public enum SheetFormat {
    PDF("pdf", "application/pdf", "backup-codes.pdf"),
    TXT("txt", "text/plain; charset=utf-8", "backup-codes.txt");

    private final String path;
    private final String mediaType;
    private final String fileName;

    SheetFormat(String path, String mediaType, String fileName) {
        this.path = path;
        this.mediaType = mediaType;
        this.fileName = fileName;
    }

    public String path() {
        return path;
    }

    public String mediaType() {
        return mediaType;
    }

    public String fileName() {
        return fileName;
    }

    public static Optional<SheetFormat> fromParameter(String value) {
        if (value == null) {
            return Optional.empty();
        }
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (SheetFormat format : values()) {
            if (format.path.equals(wanted)) {
                return Optional.of(format);
            }
        }
        return Optional.empty();
    }
}
