package io.github.backupcodes.keycloak.recovery;

import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import io.github.backupcodes.keycloak.recovery.LockRecovery.Kind;
import io.github.backupcodes.keycloak.recovery.LockRecovery.KeycloakState;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LockRecoveryTest {

    private static final KeycloakState TEMPORARILY_LOCKED = new KeycloakState(true, false, true);
    private static final KeycloakState NOT_LOCKED = new KeycloakState(true, false, false);
    private static final BridgeStatus WITH_CODES = new BridgeStatus(true, 5, 10, false, false, false);

    private static BridgeStatus locked(String source, String kind) {
        return new BridgeStatus(true, 5, 10, false, false, true, source, kind);
    }

    @Test
    void keycloakTemporaryLockWithCodesIsRecoverable() {
        assertEquals(Kind.KEYCLOAK_TEMPORARY, LockRecovery.forKeycloakLock(TEMPORARILY_LOCKED, WITH_CODES));
    }

    @Test
    void keycloakLockWithoutCodesIsNotRecoverable() {
        BridgeStatus noCodes = new BridgeStatus(true, 0, 10, false, true, false);
        assertEquals(Kind.NONE, LockRecovery.forKeycloakLock(TEMPORARILY_LOCKED, noCodes));
    }

    @Test
    void keycloakLockOfAUserTheBridgeDoesNotKnowIsNotRecoverable() {
        assertEquals(Kind.NONE, LockRecovery.forKeycloakLock(TEMPORARILY_LOCKED, new BridgeStatus(false, 0, 0, false, false, false)));
    }

    @Test
    void keycloakLockIsNotRecoverableWhenTheBridgeCannotAnswer() {
        assertEquals(Kind.NONE, LockRecovery.forKeycloakLock(TEMPORARILY_LOCKED, null));
    }

    @Test
    void enrollRequiredStillAllowsRecoveryWhileCodesRemain() {
        BridgeStatus due = new BridgeStatus(true, 3, 10, false, true, false);
        assertEquals(Kind.KEYCLOAK_TEMPORARY, LockRecovery.forKeycloakLock(TEMPORARILY_LOCKED, due));
    }

    @Test
    void permanentKeycloakLockoutIsNeverRecoverable() {
        assertEquals(Kind.NONE, LockRecovery.forKeycloakLock(new KeycloakState(true, true, true), WITH_CODES));
    }

    @Test
    void disabledUserIsNeverRecoverable() {
        assertEquals(Kind.NONE, LockRecovery.forKeycloakLock(new KeycloakState(false, false, true), WITH_CODES));
        assertEquals(Kind.NONE, LockRecovery.forDirectoryLock(new KeycloakState(false, false, false), locked("directory", "temporary")));
    }

    @Test
    void unlockedUserNeedsNoKeycloakRecovery() {
        assertEquals(Kind.NONE, LockRecovery.forKeycloakLock(NOT_LOCKED, WITH_CODES));
    }

    @Test
    void bridgeCodesLockBlocksKeycloakRecovery() {
        assertEquals(Kind.NONE, LockRecovery.forKeycloakLock(TEMPORARILY_LOCKED, locked("codes", "temporary")));
    }

    @Test
    void permanentDirectoryLockBlocksKeycloakRecovery() {
        assertEquals(Kind.NONE, LockRecovery.forKeycloakLock(TEMPORARILY_LOCKED, locked("directory", "permanent")));
    }

    @Test
    void temporaryDirectoryLockWithCodesIsRecoverable() {
        assertEquals(Kind.DIRECTORY_TEMPORARY, LockRecovery.forDirectoryLock(NOT_LOCKED, locked("directory", "temporary")));
    }

    @Test
    void permanentDirectoryLockIsNotRecoverable() {
        assertEquals(Kind.NONE, LockRecovery.forDirectoryLock(NOT_LOCKED, locked("directory", "permanent")));
    }

    @Test
    void adminLockIsNotADirectoryLock() {
        assertEquals(Kind.NONE, LockRecovery.forDirectoryLock(NOT_LOCKED, locked("admin", "temporary")));
    }

    @Test
    void wrongPasswordWithoutAnyLockIsJustAWrongPassword() {
        assertEquals(Kind.NONE, LockRecovery.forDirectoryLock(NOT_LOCKED, WITH_CODES));
    }

    @Test
    void directoryLockWithoutCodesIsNotRecoverable() {
        BridgeStatus noCodes = new BridgeStatus(true, 0, 10, false, true, true, "directory", "temporary");
        assertEquals(Kind.NONE, LockRecovery.forDirectoryLock(NOT_LOCKED, noCodes));
    }

    @Test
    void kindSurvivesTheAuthNoteRoundTrip() {
        for (Kind kind : Kind.values()) {
            assertEquals(kind, Kind.fromWire(kind.wire()));
        }
        assertEquals(Kind.NONE, Kind.fromWire("something-else"));
        assertEquals(Kind.NONE, Kind.fromWire(null));
    }
}
