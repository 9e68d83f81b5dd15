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
}
