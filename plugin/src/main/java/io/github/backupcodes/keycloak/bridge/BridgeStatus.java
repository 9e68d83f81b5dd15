package io.github.backupcodes.keycloak.bridge;

/**
 * The part of {@code GET /v1/realms/{realm}/users/{user}/codes} the provider acts on. {@code lockSource} and
 * {@code lockKind} describe the strongest active lock ("" when none), so lock recovery can tell a temporary directory
 * lock from a permanent one. {@code lockUntil}, {@code createdAt} and {@code lastUsedAt} are the bridge's ISO-8601
 * times ("" when none): the admin console shows them on the user's backup-code credential.
 */
public record BridgeStatus(boolean enrolled, int remaining, int total, boolean low, boolean enrollRequired,
                           boolean locked, String lockSource, String lockKind, String lockUntil, String createdAt,
                           String lastUsedAt) {

    public BridgeStatus {
        lockSource = lockSource == null ? "" : lockSource;
        lockKind = lockKind == null ? "" : lockKind;
        lockUntil = lockUntil == null ? "" : lockUntil;
        createdAt = createdAt == null ? "" : createdAt;
        lastUsedAt = lastUsedAt == null ? "" : lastUsedAt;
    }

    public BridgeStatus(boolean enrolled, int remaining, int total, boolean low, boolean enrollRequired, boolean locked,
                        String lockSource, String lockKind) {
        this(enrolled, remaining, total, low, enrollRequired, locked, lockSource, lockKind, "", "", "");
    }

    public BridgeStatus(boolean enrolled, int remaining, int total, boolean low, boolean enrollRequired, boolean locked) {
        this(enrolled, remaining, total, low, enrollRequired, locked, "", "");
    }

    /** Whether the set is in good standing: codes left and no new set due. */
    public boolean usable() {
        return enrolled && remaining > 0 && !enrollRequired;
    }

    /** Whether the user must set up a new set before the login completes. */
    public boolean needsSetup() {
        return enrollRequired || (enrolled && remaining <= 0);
    }

    /**
     * Whether the user can still prove themselves with a code, even when a new set is due (remaining codes keep
     * working until the new set is issued): the definition {@code configuredFor} and lock recovery use.
     */
    public boolean hasUnusedCodes() {
        return enrolled && remaining > 0;
    }
}
