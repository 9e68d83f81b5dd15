package io.github.backupcodes.keycloak.event;

import org.junit.jupiter.api.Test;
import org.keycloak.events.EventType;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventMappingTest {

    @Test
    void updateEmailPatchesTheNewAddress() {
        assertEquals(Optional.of(new BridgeCall.PatchEmail("u-1", "new@example.org")),
                EventMapping.forEvent(EventType.UPDATE_EMAIL, "u-1",
                        Map.of("previous_email", "old@example.org", "updated_email", "new@example.org")));
    }

    @Test
    void profileUpdateThatChangedTheEmailPatchesIt() {
        assertEquals(Optional.of(new BridgeCall.PatchEmail("u-1", "new@example.org")),
                EventMapping.forEvent(EventType.UPDATE_PROFILE, "u-1",
                        Map.of("previous_email", "old@example.org", "updated_email", "new@example.org")));
    }

    @Test
    void profileUpdateWithoutAnEmailChangeIsIgnored() {
        assertTrue(EventMapping.forEvent(EventType.UPDATE_PROFILE, "u-1",
                Map.of("previous_first_name", "A", "updated_first_name", "B")).isEmpty());
        assertTrue(EventMapping.forEvent(EventType.UPDATE_PROFILE, "u-1",
                Map.of("previous_email", "same@example.org", "updated_email", "same@example.org")).isEmpty());
    }

    @Test
    void removedEmailClearsTheContactAddress() {
        assertEquals(Optional.of(new BridgeCall.PatchEmail("u-1", null)),
                EventMapping.forEvent(EventType.UPDATE_PROFILE, "u-1",
                        Map.of("previous_email", "old@example.org", "updated_email", "")));
    }

    @Test
    void newPasswordForgetsTheDevices() {
        BridgeCall forget = new BridgeCall.ForgetDevices("u-1", "password_reset");
        assertEquals(Optional.of(forget), EventMapping.forEvent(EventType.UPDATE_PASSWORD, "u-1", Map.of()));
        assertEquals(Optional.of(forget), EventMapping.forEvent(EventType.RESET_PASSWORD, "u-1", null));
    }

    @Test
    void otherEventsAreIgnored() {
        assertTrue(EventMapping.forEvent(EventType.LOGIN, "u-1", Map.of()).isEmpty());
        assertTrue(EventMapping.forEvent(EventType.UPDATE_PASSWORD_ERROR, "u-1", Map.of()).isEmpty());
    }

    @Test
    void eventWithoutAUserIsIgnored() {
        assertTrue(EventMapping.forEvent(EventType.UPDATE_PASSWORD, null, Map.of()).isEmpty());
    }

    @Test
    void adminUserUpdateRefreshesTheEmail() {
        assertEquals(Optional.of(new BridgeCall.RefreshEmail("u-1")),
                EventMapping.forAdminEvent(OperationType.UPDATE, ResourceType.USER, "users/u-1"));
    }

    @Test
    void adminPasswordResetForgetsTheDevices() {
        assertEquals(Optional.of(new BridgeCall.ForgetDevices("u-1", "password_reset")),
                EventMapping.forAdminEvent(OperationType.ACTION, ResourceType.USER, "users/u-1/reset-password"));
    }

    @Test
    void otherAdminEventsAreIgnored() {
        assertTrue(EventMapping.forAdminEvent(OperationType.CREATE, ResourceType.USER, "users/u-1").isEmpty());
        assertTrue(EventMapping.forAdminEvent(OperationType.UPDATE, ResourceType.CLIENT, "clients/c-1").isEmpty());
        assertTrue(EventMapping.forAdminEvent(OperationType.UPDATE, ResourceType.USER, "users/u-1/groups/g").isEmpty());
    }

    @Test
    void passwordCredentialUpdateForgetsTheDevices() {
        assertEquals(Optional.of(new BridgeCall.ForgetDevices("u-1", "password_reset")),
                EventMapping.forEvent(EventType.UPDATE_CREDENTIAL, "u-1", Map.of("credential_type", "password")));
    }

    @Test
    void otherCredentialUpdatesKeepTheDevices() {
        assertTrue(EventMapping.forEvent(EventType.UPDATE_CREDENTIAL, "u-1", Map.of("credential_type", "otp")).isEmpty());
        assertTrue(EventMapping.forEvent(EventType.UPDATE_CREDENTIAL, "u-1", Map.of("credential_type", "backup-code")).isEmpty());
    }
}
