package io.github.backupcodes.keycloak.recovery;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.ServerConfig;
import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.authenticators.browser.UsernamePasswordFormFactory;
import org.keycloak.models.KeycloakSession;

/**
 * Keycloak's {@link UsernamePasswordFormFactory} metadata (requirement choices, reference categories, passkeys
 * support) under our id, so the form is a drop-in replacement in the installed browser flow.
 */
public class LockRecoveryUsernamePasswordFormFactory extends UsernamePasswordFormFactory {

    public static final String PROVIDER_ID = Contract.PASSWORD_FORM_ID;

    private BridgeSettings settings = new BridgeSettings(null, null);

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Username Password Form with lock recovery";
    }

    @Override
    public String getHelpText() {
        return "Validates a username and password from login form. A user under a temporary lock (Keycloak brute-force "
                + "detection or the directory) can lift it with a backup code.";
    }

    @Override
    public Authenticator create(KeycloakSession session) {
        return new LockRecoveryUsernamePasswordForm(session, settings);
    }

    @Override
    public void init(Config.Scope config) {
        super.init(config);
        settings = ServerConfig.load(config);
    }
}
