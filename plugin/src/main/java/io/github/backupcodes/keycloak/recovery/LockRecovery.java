package io.github.backupcodes.keycloak.recovery;

import io.github.backupcodes.keycloak.bridge.BridgeStatus;

import java.util.Locale;

/**
 * Which lock a backup code may lift (docs/design.md, "Recovery scenarios"). Pure, so every combination is tested.
 *
 * <p>Only <b>temporary</b> locks are recoverable, and only for an enabled user who still has unused codes. Permanent
 * locks, disabled users and a {@code codes} lock (too many wrong codes) always keep Keycloak's usual generic error.
 */
final class LockRecovery {

    public enum Kind {
        /** Nothing to recover: the normal login path applies. */
        NONE,
        /** Keycloak's brute-force detection has the user temporarily locked. */
        KEYCLOAK_TEMPORARY,
        /** The bridge knows a temporary directory lock (the directory refuses binds while it lasts). */
        DIRECTORY_TEMPORARY;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Kind fromWire(String value) {
            for (Kind kind : values()) {
                if (kind.wire().equals(value)) {
                    return kind;
                }
            }
            return NONE;
        }
    }

    /** What Keycloak knows about the user before the password is looked at. */
    public record KeycloakState(boolean enabled, boolean permanentlyLocked, boolean temporarilyLocked) {
    }

    private LockRecovery() {
    }

    /** Keycloak's own temporary lock; asked before the password is checked. */
    public static Kind forKeycloakLock(KeycloakState keycloak, BridgeStatus bridge) {
        if (!keycloak.enabled() || keycloak.permanentlyLocked() || !keycloak.temporarilyLocked()) {
            return Kind.NONE;
        }
        if (bridge == null || !bridge.hasUnusedCodes() || bridgeBlocksRecovery(bridge)) {
            return Kind.NONE;
        }
        return Kind.KEYCLOAK_TEMPORARY;
    }

    /** A directory lock the bridge knows about; asked only after the password was refused. */
    public static Kind forDirectoryLock(KeycloakState keycloak, BridgeStatus bridge) {
        if (!keycloak.enabled() || keycloak.permanentlyLocked() || keycloak.temporarilyLocked()) {
            return Kind.NONE;
        }
        if (bridge == null || !bridge.hasUnusedCodes() || !bridge.locked()) {
            return Kind.NONE;
        }
        return "directory".equals(bridge.lockSource()) && "temporary".equals(bridge.lockKind())
                ? Kind.DIRECTORY_TEMPORARY : Kind.NONE;
    }

    /** A permanent lock from any source, or the bridge's own lock after too many wrong codes, refuses recovery. */
    static boolean bridgeBlocksRecovery(BridgeStatus bridge) {
        return bridge.locked() && ("permanent".equals(bridge.lockKind()) || "codes".equals(bridge.lockSource()));
    }
}
