package io.github.backupcodes.keycloak.admin;

import org.junit.jupiter.api.Test;
import org.keycloak.models.AuthenticationExecutionModel.Requirement;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The two shapes realm install gives the reset flow's backup-code step, named as --reset-mode names them. */
class ResetFlowModeTest {

    @Test
    void conditionalStepAfterTheEmailLinkIsEmailAndCode() {
        assertEquals("email+code", ResetFlowMode.mode(Requirement.CONDITIONAL));
    }

    @Test
    void requiredStepIsCodeOnly() {
        assertEquals("code-only", ResetFlowMode.mode(Requirement.REQUIRED));
    }

    @Test
    void anyOtherRequirementIsAnEditedFlow() {
        assertEquals(ResetFlowMode.EDITED, ResetFlowMode.mode(Requirement.ALTERNATIVE));
        assertEquals(ResetFlowMode.EDITED, ResetFlowMode.mode(Requirement.DISABLED));
    }
}
