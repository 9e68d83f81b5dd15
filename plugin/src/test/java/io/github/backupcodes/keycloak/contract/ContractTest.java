package io.github.backupcodes.keycloak.contract;

import io.github.backupcodes.keycloak.device.DevicesActionFactory;
import io.github.backupcodes.keycloak.device.RememberDeviceAuthenticatorFactory;
import io.github.backupcodes.keycloak.device.SecondFactorConditionFactory;
import io.github.backupcodes.keycloak.event.BackupCodesEventListenerFactory;
import io.github.backupcodes.keycloak.login.BackupCodeAuthenticatorFactory;
import io.github.backupcodes.keycloak.recovery.LockRecoveryUsernamePasswordFormFactory;
import io.github.backupcodes.keycloak.setup.BackupCodeSetupActionFactory;
import org.junit.jupiter.api.Test;
import org.keycloak.models.AuthenticationExecutionModel.Requirement;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The factories answer with the shared contract's ids (bridge/contract.json, the installer reads the same), and are registered. */
class ContractTest {

    private static final Path SERVICES = Path.of("src", "main", "resources", "META-INF", "services");

    private static List<String> services(String spi) throws IOException {
        return Files.readAllLines(SERVICES.resolve(spi)).stream().map(String::trim).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void authenticatorIdsMatchTheContract() {
        assertEquals(Contract.AUTHENTICATOR_ID, new BackupCodeAuthenticatorFactory().getId());
        assertEquals(Contract.CONDITION_ID, new SecondFactorConditionFactory().getId());
        assertEquals(Contract.REMEMBER_DEVICE_ID, new RememberDeviceAuthenticatorFactory().getId());
        assertEquals(Contract.PASSWORD_FORM_ID, new LockRecoveryUsernamePasswordFormFactory().getId());
    }

    @Test
    void displayNamesMatchTheContract() {
        assertEquals("Condition - second factor needed", new SecondFactorConditionFactory().getDisplayType());
        assertEquals("Remember this device", new RememberDeviceAuthenticatorFactory().getDisplayType());
        assertEquals("Username Password Form with lock recovery", new LockRecoveryUsernamePasswordFormFactory().getDisplayType());
    }

    @Test
    void requiredActionAndListenerIdsMatchTheContract() {
        assertEquals(Contract.SETUP_ACTION_ID, new BackupCodeSetupActionFactory().getId());
        assertEquals(Contract.DEVICES_ACTION_ID, new DevicesActionFactory().getId());
        assertEquals(Contract.EVENT_LISTENER_ID, new BackupCodesEventListenerFactory().getId());
    }

    @Test
    void everyFactoryIsRegistered() throws IOException {
        assertTrue(services("org.keycloak.authentication.AuthenticatorFactory").containsAll(List.of(
                BackupCodeAuthenticatorFactory.class.getName(), SecondFactorConditionFactory.class.getName(),
                RememberDeviceAuthenticatorFactory.class.getName(), LockRecoveryUsernamePasswordFormFactory.class.getName())));
        assertTrue(services("org.keycloak.authentication.RequiredActionFactory").containsAll(List.of(
                BackupCodeSetupActionFactory.class.getName(), DevicesActionFactory.class.getName())));
        assertEquals(List.of(BackupCodesEventListenerFactory.class.getName()),
                services("org.keycloak.events.EventListenerProviderFactory"));
    }

    @Test
    void lockRecoveryFormKeepsKeycloaksRequirementChoicesAndCategory() {
        var ours = new LockRecoveryUsernamePasswordFormFactory();
        var keycloaks = new org.keycloak.authentication.authenticators.browser.UsernamePasswordFormFactory();
        assertEquals(List.of(keycloaks.getRequirementChoices()), List.of(ours.getRequirementChoices()));
        assertEquals(keycloaks.getReferenceCategory(), ours.getReferenceCategory());
    }

    @Test
    void credentialTypeAndProviderMatchTheContract() {
        assertEquals(Contract.CREDENTIAL_TYPE, io.github.backupcodes.keycloak.credential.BackupCodeCredentialModel.TYPE);
        assertEquals(Contract.CREDENTIAL_PROVIDER_ID,
                new io.github.backupcodes.keycloak.credential.BackupCodeCredentialProviderFactory().getId());
    }

    @Test
    void theJarCarriesTheBridgesContractUnchanged() throws IOException {
        try (var packed = Contract.class.getResourceAsStream("contract.json")) {
            assertEquals(Files.readString(Path.of("..", "bridge", "contract.json")),
                    new String(packed.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @Test
    void theResetShapesAreTheTwoRealmInstallBuilds() {
        assertEquals(Set.of(Contract.RESET_EMAIL_AND_CODE, Contract.RESET_CODE_ONLY), Contract.RESET_SHAPES.keySet());
        assertEquals(new Contract.ResetShape("CONDITIONAL", true, List.of(
                        new Contract.ResetChild("conditional-user-configured", "REQUIRED"),
                        new Contract.ResetChild(Contract.AUTHENTICATOR_ID, "REQUIRED"))),
                Contract.RESET_SHAPES.get(Contract.RESET_EMAIL_AND_CODE));
        assertEquals(new Contract.ResetShape("REQUIRED", false, List.of(
                        new Contract.ResetChild(Contract.AUTHENTICATOR_ID, "ALTERNATIVE"),
                        new Contract.ResetChild("reset-credential-email", "ALTERNATIVE"))),
                Contract.RESET_SHAPES.get(Contract.RESET_CODE_ONLY));
        assertEquals("reset-credential-email", Contract.RESET_EMAIL_ID);
    }

    @Test
    void theResetShapesNameKeycloaksRequirements() {
        Contract.RESET_SHAPES.values().forEach(shape -> {
            Requirement.valueOf(shape.requirement());
            shape.children().forEach(child -> Requirement.valueOf(child.requirement()));
        });
    }

    @Test
    void theContractsValuesAreTheOnesTheBridgeAndThemeUse() {
        assertEquals("backup-code", Contract.AUTHENTICATOR_ID);
        assertEquals("backupCodes.rememberDeviceDays", Contract.ATTR_REMEMBER_DEVICE_DAYS);
        assertEquals(64, Contract.CODE_INPUT_MAX_LENGTH);
        assertEquals(400, Contract.REMEMBER_DEVICE_MAX_DAYS);
    }
}
