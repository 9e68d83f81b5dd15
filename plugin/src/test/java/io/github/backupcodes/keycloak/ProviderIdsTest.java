package io.github.backupcodes.keycloak;

import io.github.backupcodes.keycloak.authenticator.BackupCodeAuthenticatorFactory;
import io.github.backupcodes.keycloak.authenticator.LockRecoveryUsernamePasswordFormFactory;
import io.github.backupcodes.keycloak.authenticator.RememberDeviceAuthenticatorFactory;
import io.github.backupcodes.keycloak.authenticator.SecondFactorConditionFactory;
import io.github.backupcodes.keycloak.event.BackupCodesEventListenerFactory;
import io.github.backupcodes.keycloak.requiredaction.BackupCodeSetupActionFactory;
import io.github.backupcodes.keycloak.requiredaction.DevicesActionFactory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ids the installer and the e2e tests rely on (docs/design.md, "Provider (ids)"), and their registration. */
class ProviderIdsTest {

    private static final Path SERVICES = Path.of("src", "main", "resources", "META-INF", "services");

    private static List<String> services(String spi) throws IOException {
        return Files.readAllLines(SERVICES.resolve(spi)).stream().map(String::trim).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void authenticatorIdsMatchTheContract() {
        assertEquals("backup-code", new BackupCodeAuthenticatorFactory().getId());
        assertEquals("backup-code-condition", new SecondFactorConditionFactory().getId());
        assertEquals("backup-code-remember-device", new RememberDeviceAuthenticatorFactory().getId());
        assertEquals("backup-code-username-password", new LockRecoveryUsernamePasswordFormFactory().getId());
    }

    @Test
    void displayNamesMatchTheContract() {
        assertEquals("Condition - second factor needed", new SecondFactorConditionFactory().getDisplayType());
        assertEquals("Remember this device", new RememberDeviceAuthenticatorFactory().getDisplayType());
        assertEquals("Username Password Form with lock recovery", new LockRecoveryUsernamePasswordFormFactory().getDisplayType());
    }

    @Test
    void requiredActionAndListenerIdsMatchTheContract() {
        assertEquals("backup-code-setup", new BackupCodeSetupActionFactory().getId());
        assertEquals("backup-code-devices", new DevicesActionFactory().getId());
        assertEquals("backup-codes", new BackupCodesEventListenerFactory().getId());
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
}
