package io.github.backupcodes.keycloak.bridge;

/** Why a code is checked: a normal second factor, or recovery (reset-credentials flow, lock recovery). */
public enum VerifyPurpose {
    LOGIN("login"),
    RECOVERY("recovery");

    private final String wire;

    VerifyPurpose(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }
}
