package io.github.backupcodes.keycloak.setup;

import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackupCodeSetupActionTest {

    @Test
    void displayNameJoinsFirstAndLastName() {
        assertEquals("Ada Lovelace", BackupCodeSetupAction.displayName(" Ada ", "Lovelace"));
    }

    @Test
    void displayNameWithoutANameIsEmpty() {
        assertEquals("", BackupCodeSetupAction.displayName(null, " "));
    }

    @Test
    void displayNameWithOnlyALastName() {
        assertEquals("Lovelace", BackupCodeSetupAction.displayName(null, "Lovelace"));
    }

    private static final BridgeStatus USABLE = new BridgeStatus(true, 8, 10, false, false, false);
    private static final BridgeStatus AFTER_RECOVERY = new BridgeStatus(true, 9, 10, false, true, false);
    private static final BridgeStatus USED_UP = new BridgeStatus(true, 0, 10, false, true, false);

    @Test
    void aLinkAsksBeforeReplacingCodesThatStillWork() {
        assertTrue(BackupCodeSetupAction.askBeforeReplacing(USABLE, true));
    }

    @Test
    void afterARecoveryTheRemainingCodesKeepWorkingUntilTheUserAsksForNewOnes() {
        assertTrue(BackupCodeSetupAction.askBeforeReplacing(AFTER_RECOVERY, false));
    }

    @Test
    void theFewCodesLeftChoiceIssuesAtOnce() {
        assertFalse(BackupCodeSetupAction.askBeforeReplacing(USABLE, false));
    }

    @Test
    void aUsedUpSetIsReplacedAtOnce() {
        assertFalse(BackupCodeSetupAction.askBeforeReplacing(USED_UP, false));
        assertFalse(BackupCodeSetupAction.askBeforeReplacing(USED_UP, true));
    }
}
