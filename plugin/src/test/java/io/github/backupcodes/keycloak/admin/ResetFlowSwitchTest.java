package io.github.backupcodes.keycloak.admin;

import org.junit.jupiter.api.Test;
import org.keycloak.models.AuthenticationExecutionModel.Requirement;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tab switches the installed reset flow into exactly the shape realm install builds for the other mode, so a
 * plain realm install afterwards finds nothing to change; a flow realm install did not make is refused untouched.
 */
class ResetFlowSwitchTest {

    private static final List<String> CODE_ONLY_SHAPE = List.of(
            "reset-credentials-choose-user REQUIRED",
            FakeFlows.RESET + " - email or backup code REQUIRED",
            "  backup-code ALTERNATIVE",
            "  reset-credential-email ALTERNATIVE",
            "reset-password REQUIRED");

    private static final List<String> EMAIL_AND_CODE_SHAPE = List.of(
            "reset-credentials-choose-user REQUIRED",
            "reset-credential-email REQUIRED",
            FakeFlows.RESET + " - backup code CONDITIONAL",
            "  conditional-user-configured REQUIRED",
            "  backup-code REQUIRED",
            "reset-password REQUIRED");

    @Test
    void emailAndCodeSwitchedToCodeOnlyIsRealmInstallsCodeOnlyFlow() {
        FakeFlows realm = FakeFlows.emailAndCode(10, 25);
        ResetFlowSwitch.apply(realm.model(), "code-only");
        realm.commit();
        assertEquals(CODE_ONLY_SHAPE, realm.describe());
        assertEquals("code-only", ResetFlowMode.of(realm.model()));
    }

    @Test
    void codeOnlySwitchedToEmailAndCodeIsRealmInstallsEmailAndCodeFlow() {
        FakeFlows realm = FakeFlows.codeOnly(10, 20);
        ResetFlowSwitch.apply(realm.model(), "email+code");
        realm.commit();
        assertEquals(EMAIL_AND_CODE_SHAPE, realm.describe());
        assertEquals("email+code", ResetFlowMode.of(realm.model()));
    }

    @Test
    void withNoPriorityLeftBeforeTheStepTheTopLevelIsRenumberedInOrder() {
        FakeFlows realm = FakeFlows.codeOnly(10, 11);
        ResetFlowSwitch.apply(realm.model(), "email+code");
        assertEquals(EMAIL_AND_CODE_SHAPE, realm.describe());
    }

    @Test
    void switchingThereAndBackGivesTheFlowItStartedWith() {
        FakeFlows realm = FakeFlows.emailAndCode(10, 25);
        ResetFlowSwitch.apply(realm.model(), "code-only");
        realm.commit();
        ResetFlowSwitch.apply(realm.model(), "email+code");
        assertEquals(EMAIL_AND_CODE_SHAPE, realm.describe());
    }

    @Test
    void aRealmOnKeycloaksOwnResetFlowIsRefusedNamingTheFieldAndRealmInstall() {
        FakeFlows realm = new FakeFlows();
        realm.resetFlowId = realm.flow("reset credentials");
        String refusal = ResetFlowSwitch.refusal(realm.model(), "code-only").orElseThrow();
        assertTrue(refusal.startsWith("Password reset (password_reset): "), refusal);
        assertTrue(refusal.contains("backup-codes realm install --realm acme --reset-mode code-only"), refusal);
    }

    @Test
    void anEditedCopyIsRefusedAndLeftAsItIs() {
        FakeFlows realm = FakeFlows.emailAndCode(10, 25);
        realm.step(realm.children(realm.resetFlowId).get(2).getFlowId(), "auth-otp-form", Requirement.REQUIRED, 30);
        List<String> before = realm.describe();
        assertEquals(ResetFlowMode.EDITED, ResetFlowMode.of(realm.model()));
        assertTrue(ResetFlowSwitch.refusal(realm.model(), "code-only").orElseThrow().contains("edited"));
        assertEquals(before, realm.describe());
    }
}
