package io.github.backupcodes.keycloak.login;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.ServerConfig;
import io.github.backupcodes.keycloak.contract.Contract;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialModel;
import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.AuthenticatorFactory;
import org.keycloak.authentication.ConfigurableAuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;

import java.util.List;

public class BackupCodeAuthenticatorFactory implements AuthenticatorFactory {

    public static final String PROVIDER_ID = Contract.AUTHENTICATOR_ID;
    private static final Logger LOG = Logger.getLogger(BackupCodeAuthenticatorFactory.class);

    private BridgeSettings settings = new BridgeSettings(null, null);

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Backup Code Form";
    }

    @Override
    public String getReferenceCategory() {
        return BackupCodeCredentialModel.TYPE;
    }

    @Override
    public String getHelpText() {
        return "Validates a single-use backup code against the backup-codes bridge.";
    }

    @Override
    public boolean isConfigurable() {
        return false; // the "few codes left" threshold is the bridge's policy (its `low` answer)
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }

    @Override
    public AuthenticationExecutionModel.Requirement[] getRequirementChoices() {
        return ConfigurableAuthenticatorFactory.REQUIREMENT_CHOICES;
    }

    @Override
    public boolean isUserSetupAllowed() {
        return true;
    }

    @Override
    public Authenticator create(KeycloakSession session) {
        return new BackupCodeAuthenticator(settings);
    }

    @Override
    public void init(Config.Scope config) {
        settings = ServerConfig.load(config);
        if (!settings.configured()) {
            LOG.warn("backup-code: bridge URL or API key not set (--spi-authenticator--backup-code--bridge-url/--api-key "
                    + "or BACKUP_CODES_BRIDGE_URL/BACKUP_CODES_BRIDGE_API_KEY); the step will answer 'temporarily unavailable'");
        } else {
            LOG.infof("backup-code: using bridge %s", settings.bridgeUrl());
        }
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }
}
