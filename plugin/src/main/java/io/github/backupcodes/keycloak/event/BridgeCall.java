package io.github.backupcodes.keycloak.event;

/** What a Keycloak event asks of the bridge. Pure values, so the event → call mapping is unit-tested. */
public sealed interface BridgeCall {

    String userId();

    /** {@code PATCH .../contact {"email": email}} (null email clears it). */
    record PatchEmail(String userId, String email) implements BridgeCall {
        @Override
        public String toString() {
            return "PatchEmail[userId=" + userId + "]";
        }
    }

    /** {@code PATCH .../contact {"email"}} with the user's current address, read from Keycloak (admin updates). */
    record RefreshEmail(String userId) implements BridgeCall {
    }

    /** {@code POST .../devices/forget {"reason": reason}}. */
    record ForgetDevices(String userId, String reason) implements BridgeCall {
    }

    /**
     * An admin deleted one of the user's credentials in the console or Admin REST API: when it was the backup-code
     * marker, the helpdesk reset ({@code POST .../reset}) in that admin's name.
     */
    record HelpdeskReset(String userId, String adminRealmId, String adminUserId) implements BridgeCall {
    }

    /** An admin lifted Keycloak's brute-force lock: {@code POST .../locks/codes/unlock} (temporary locks only). */
    record UnlockCodes(String userId, String adminRealmId, String adminUserId) implements BridgeCall {
    }

    /**
     * An admin lifted Keycloak's brute-force locks of every user ("unlock all users"): one realm-wide
     * {@code POST /v1/realms/{realm}/locks/codes/unlock} (temporary locks only).
     */
    record UnlockAllCodes(String adminRealmId, String adminUserId) implements BridgeCall {
        /** No one user: the call is about every user of the realm. */
        @Override
        public String userId() {
            return ALL_USERS;
        }
    }

    /** What {@link #userId()} says (and the listener logs) for a call about every user of the realm. */
    String ALL_USERS = "*";
}
