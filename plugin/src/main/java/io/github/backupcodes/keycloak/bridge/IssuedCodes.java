package io.github.backupcodes.keycloak.bridge;

import java.util.List;

/** A freshly issued set: the only moment the plain codes exist outside the user's hands. */
public record IssuedCodes(List<String> codes, String setId, String createdAt) {

    public IssuedCodes {
        codes = List.copyOf(codes);
    }

    @Override
    public String toString() {
        // Records print their fields; a set of codes must never reach a log line by accident.
        return "IssuedCodes[count=" + codes.size() + ", setId=" + setId + ", createdAt=" + createdAt + "]";
    }
}
