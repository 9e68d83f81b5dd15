package io.github.backupcodes.keycloak.bridge;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.FormatStyle;
import java.util.Locale;

/**
 * Bridge timestamps (ISO-8601) for people: "26 Nov 2026, 14:05 UTC" in the user's language. The server does not
 * know the browser's time zone, so it says UTC; backup-codes.js rewrites {@code <time>} elements to local time.
 */
public final class Timestamps {

    private Timestamps() {
    }

    /** Human-readable UTC date and time, or the input unchanged when it is not an ISO-8601 timestamp. */
    public static String display(String iso, Locale locale) {
        if (iso == null || iso.isBlank()) {
            return "";
        }
        try {
            OffsetDateTime when = parse(iso.trim());
            DateTimeFormatter format = DateTimeFormatter.ofLocalizedDateTime(FormatStyle.MEDIUM, FormatStyle.SHORT)
                    .withLocale(locale == null ? Locale.ENGLISH : locale);
            return when.withOffsetSameInstant(ZoneOffset.UTC).format(format) + " UTC";
        } catch (DateTimeParseException e) {
            return iso;
        }
    }

    /** Accepts "2026-01-01T10:00:00Z", "+00:00" offsets, fractions, and a naive time (taken as UTC). */
    static OffsetDateTime parse(String iso) {
        try {
            return OffsetDateTime.parse(iso);
        } catch (DateTimeParseException e) {
            return java.time.LocalDateTime.parse(iso).atOffset(ZoneOffset.UTC);
        }
    }
}
