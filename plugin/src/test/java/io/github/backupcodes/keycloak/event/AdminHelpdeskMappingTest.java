package io.github.backupcodes.keycloak.event;

import org.junit.jupiter.api.Test;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which admin events are helpdesk work the bridge must hear about, in the acting admin's name. */
class AdminHelpdeskMappingTest {

    @Test
    void aDeletedCredentialIsAHelpdeskResetCandidateInTheAdminsName() {
        assertEquals(Optional.of(new BridgeCall.HelpdeskReset("u-1", "master-id", "admin-id")),
                EventMapping.forAdminEvent(OperationType.ACTION, ResourceType.USER, "users/u-1/credentials/c-9",
                        "master-id", "admin-id"));
    }

    @Test
    void unlockingAUserLiftsTheCodesLockInTheAdminsName() {
        assertEquals(Optional.of(new BridgeCall.UnlockCodes("u-1", "master-id", "admin-id")),
                EventMapping.forAdminEvent(OperationType.DELETE, ResourceType.USER_LOGIN_FAILURE,
                        "attack-detection/brute-force/users/u-1", "master-id", "admin-id"));
    }

    @Test
    void unlockingAllUsersLiftsTheRealmsCodesLocksInTheAdminsName() {
        assertEquals(Optional.of(new BridgeCall.UnlockAllCodes("master-id", "admin-id")),
                EventMapping.forAdminEvent(OperationType.DELETE, ResourceType.USER_LOGIN_FAILURE,
                        "attack-detection/brute-force/users", "master-id", "admin-id"));
    }

    @Test
    void renamingACredentialIsNotAReset() {
        assertTrue(EventMapping.forAdminEvent(OperationType.ACTION, ResourceType.USER,
                "users/u-1/credentials/c-9/userLabel", "m", "a").isEmpty());
        assertTrue(EventMapping.forAdminEvent(OperationType.ACTION, ResourceType.USER,
                "users/u-1/credentials/c-9/moveToFirst", "m", "a").isEmpty());
    }

    @Test
    void theAuditNamesTheAdminsRealmAndUsername() {
        assertEquals("keycloak-admin:master/helpdesk", ConsoleHelpdesk.label("master", "helpdesk"));
    }
}
