package io.github.backupcodes.keycloak.login;

import io.github.backupcodes.keycloak.contract.Contract;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What the provider does with codes itself. Normalisation proper (case, O→0, I/L→1) is the bridge's job; here we only
 * trim what a paste adds and refuse absurd lengths before they travel, and format codes for display.
 */
public final class CodeInput {

    /** Same cap as the bridge's normaliser: one value in the shared contract. */
    static final int MAX_LENGTH = Contract.CODE_INPUT_MAX_LENGTH;

    private CodeInput() {
    }

    public enum Verdict { EMPTY, TOO_LONG, OK }

    public record Checked(Verdict verdict, String value) {
    }

    /** Trim whitespace (incl. non-breaking spaces from copied PDFs) around the submitted field. */
    public static Checked check(String raw) {
        if (raw == null) {
            return new Checked(Verdict.EMPTY, "");
        }
        String trimmed = raw.replace('\u00A0', ' ').strip();
        if (trimmed.isEmpty()) {
            return new Checked(Verdict.EMPTY, "");
        }
        if (trimmed.length() > MAX_LENGTH) {
            return new Checked(Verdict.TOO_LONG, "");
        }
        return new Checked(Verdict.OK, trimmed);
    }

    /** {@code abcd efgh-ijkl} → {@code ABCD-EFGH-IJKL}: groups of four, however the bridge spelled it. */
    public static String format(String code) {
        String compact = code.replaceAll("[\\s-]", "").toUpperCase(Locale.ROOT);
        StringBuilder out = new StringBuilder(compact.length() + compact.length() / 4);
        for (int i = 0; i < compact.length(); i++) {
            if (i > 0 && i % 4 == 0) {
                out.append('-');
            }
            out.append(compact.charAt(i));
        }
        return out.toString();
    }

    public static List<String> formatAll(List<String> codes) {
        List<String> out = new ArrayList<>(codes.size());
        codes.forEach(code -> out.add(format(code)));
        return out;
    }

    /** Codes are stored in an auth-session note as one string; they never contain commas. */
    public static String join(List<String> codes) {
        return String.join(",", codes);
    }

    public static Optional<List<String>> split(String note) {
        if (note == null || note.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(List.of(note.split(",")));
    }
}
