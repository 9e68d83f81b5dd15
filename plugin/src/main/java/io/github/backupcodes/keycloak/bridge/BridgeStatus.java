package io.github.backupcodes.keycloak.bridge;

/** The part of {@code GET /v1/realms/{realm}/users/{user}/codes} the provider acts on. */
public record BridgeStatus(boolean enrolled, int remaining, int total, boolean low, boolean enrollRequired, boolean locked) {

    /** Whether the user can still sign in with a code: the definition {@code configuredFor} uses. */
    public boolean usable() {
        return enrolled && remaining > 0 && !enrollRequired;
    }

    /** Whether the user must set up a new set before the login completes. */
    public boolean needsSetup() {
        return enrollRequired || (enrolled && remaining <= 0);
    }
}
