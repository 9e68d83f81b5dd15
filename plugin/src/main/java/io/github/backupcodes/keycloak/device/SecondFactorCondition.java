package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.authenticators.conditional.ConditionalAuthenticator;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

/**
 * "Condition - second factor needed", REQUIRED in the conditional 2FA subflow. The second factor runs unless a backup
 * code was already accepted in this authentication (lock recovery), or the realm remembers devices and this browser's
 * cookie is recognised by the bridge for this user. Any doubt (no cookie, bridge down) means: ask.
 */
class SecondFactorCondition implements ConditionalAuthenticator {

    private final BridgeSettings settings;

    public SecondFactorCondition(BridgeSettings settings) {
        this.settings = settings;
    }

    @Override
    public boolean matchCondition(AuthenticationFlowContext context) {
        if ("true".equals(context.getAuthenticationSession().getAuthNote(Contract.NOTE_PASSED))) {
            return false;
        }
        UserModel user = context.getUser();
        if (user == null || !RememberDevice.enabled(context.getRealm())) {
            return true;
        }
        if (DeviceRecognition.recognised(context.getSession(), settings, context.getRealm(), user)) {
            context.getAuthenticationSession().setAuthNote(Contract.NOTE_DEVICE_RECOGNISED, "true");
            return false;
        }
        return true;
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        // Conditions render nothing.
    }

    @Override
    public boolean requiresUser() {
        return true;
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
    }

    @Override
    public void close() {
    }
}
