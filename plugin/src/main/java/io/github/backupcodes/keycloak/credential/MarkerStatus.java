package io.github.backupcodes.keycloak.credential;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import org.keycloak.credential.CredentialModel;

import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * What the admin console shows of a user's backup codes. The console lists a credential as its user label, its
 * created date and (behind "Show data") its credential data, and has no hook for a provider to add columns; so the
 * bridge's status is written into the marker's label (the one-line summary admins see in the row) and data (the
 * details), whenever the provider learns it: on issue, on every code checked, on every login step that asks the
 * bridge. Pure, so the wording is tested without Keycloak.
 */
public final class MarkerStatus {

    /** Keycloak's {@code CREDENTIAL.USER_LABEL} column is 255 characters. */
    static final int MAX_LABEL = 255;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final DateTimeFormatter SHOWN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'");

    private MarkerStatus() {
    }

    /**
     * E.g. "8 of 10 left · used 2026-12-04 21:30 UTC · locked (codes, temporary) until …". Short: the console's label
     * column is narrow and does not wrap, and the row's type already says "Backup-code".
     */
    public static String label(BridgeStatus status) {
        StringBuilder label = new StringBuilder();
        if (!status.enrolled()) {
            label.append("none in the bridge");
        } else {
            label.append(status.remaining()).append(" of ").append(status.total()).append(" left");
            label.append(" · ").append(status.lastUsedAt().isEmpty() ? "never used" : "used " + shown(status.lastUsedAt()));
        }
        if (status.enrollRequired()) {
            label.append(" · new set due");
        }
        if (status.locked()) {
            label.append(" · locked (").append(status.lockSource()).append(", ").append(status.lockKind()).append(')');
            if (!status.lockUntil().isEmpty()) {
                label.append(" until ").append(shown(status.lockUntil()));
            }
        }
        return label.length() <= MAX_LABEL ? label.toString() : label.substring(0, MAX_LABEL);
    }

    /** The marker's credential data with the bridge's status, keeping its set id (flat strings: the console lists them). */
    public static String data(String storedData, BridgeStatus status) {
        ObjectNode data = MAPPER.createObjectNode();
        JsonNode stored = parse(storedData);
        data.put("setId", stored.path("setId").asText(""));
        data.put("storage", "bridge");
        data.put("remaining", String.valueOf(status.remaining()));
        data.put("total", String.valueOf(status.total()));
        data.put("createdAt", status.createdAt().isEmpty() ? stored.path("createdAt").asText("") : status.createdAt());
        data.put("lastUsedAt", status.lastUsedAt());
        data.put("newSetDue", String.valueOf(status.enrollRequired()));
        data.put("lock", status.locked() ? status.lockSource() + ", " + status.lockKind() : "none");
        data.put("lockUntil", status.lockUntil());
        return data.toString();
    }

    /** The marker with label and data for this status, or empty when it already shows it (nothing to write). */
    public static Optional<CredentialModel> refreshed(CredentialModel stored, BridgeStatus status) {
        String label = label(status);
        String data = data(stored.getCredentialData(), status);
        if (label.equals(stored.getUserLabel()) && data.equals(stored.getCredentialData())) {
            return Optional.empty();
        }
        CredentialModel updated = BackupCodeCredentialModel.fromModel(stored);
        updated.setUserLabel(label);
        updated.setCredentialData(data);
        return Optional.of(updated);
    }

    /** A bridge time as admins read it; anything unparseable is shown as sent rather than dropped. */
    static String shown(String iso) {
        try {
            return OffsetDateTime.parse(iso).withOffsetSameInstant(ZoneOffset.UTC).format(SHOWN);
        } catch (DateTimeParseException e) {
            return iso;
        }
    }

    private static JsonNode parse(String json) {
        if (json == null || json.isBlank()) {
            return MAPPER.createObjectNode();
        }
        try {
            JsonNode node = MAPPER.readTree(json);
            return node == null || !node.isObject() ? MAPPER.createObjectNode() : node;
        } catch (IOException e) {
            return MAPPER.createObjectNode();
        }
    }
}
