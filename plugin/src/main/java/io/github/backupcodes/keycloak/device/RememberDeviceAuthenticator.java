package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.contract.Contract;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialModel;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.Authenticator;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.credential.OTPCredentialModel;
import org.keycloak.models.credential.WebAuthnCredentialModel;

import java.util.Set;

/**
 * "Remember this device", REQUIRED after the conditional 2FA subflow. When the realm remembers devices and the user
 * has a second factor, a browser that is not yet recognised is registered with the bridge and gets the
 * {@code KC_BACKUP_CODES_DEVICE} cookie. Always {@code success()}: the login never depends on this step.
 */
class RememberDeviceAuthenticator implements Authenticator {

    static final Set<String> SECOND_FACTOR_TYPES = Set.of(
            OTPCredentialModel.TYPE, WebAuthnCredentialModel.TYPE_TWOFACTOR, BackupCodeCredentialModel.TYPE);

    private final BridgeSettings settings;

    public RememberDeviceAuthenticator(BridgeSettings settings) {
        this.settings = settings;
    }

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        try {
            rememberIfWanted(context);
        } finally {
            context.success();
        }
    }

    private void rememberIfWanted(AuthenticationFlowContext context) {
        UserModel user = context.getUser();
        if (user == null || !settings.configured() || !RememberDevice.enabled(context.getRealm()) || !hasSecondFactor(user)) {
            return;
        }
        if ("true".equals(context.getAuthenticationSession().getAuthNote(Contract.NOTE_DEVICE_RECOGNISED))) {
            return; // the condition's check already refreshed last_seen
        }
        KeycloakSession session = context.getSession();
        if (DeviceRecognition.recognised(session, settings, context.getRealm(), user)) {
            return;
        }
        DeviceRecognition.remember(session, settings, context.getRealm(), user);
    }

    static boolean hasSecondFactor(UserModel user) {
        return user.credentialManager().getStoredCredentialsStream()
                .anyMatch(credential -> SECOND_FACTOR_TYPES.contains(credential.getType()));
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        context.success();
    }

    @Override
    public boolean requiresUser() {
        return true;
    }

    @Override
    public boolean configuredFor(KeycloakSession session, RealmModel realm, UserModel user) {
        return true;
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
    }

    @Override
    public void close() {
    }
}
