package io.github.backupcodes.keycloak.authenticator;

import io.github.backupcodes.keycloak.RealmOptions;
import io.github.backupcodes.keycloak.ServerConfig;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
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
import org.keycloak.provider.ProviderConfigurationBuilder;

import java.util.List;

public class BackupCodeAuthenticatorFactory implements AuthenticatorFactory {

    public static final String PROVIDER_ID = "backup-code";
    private static final Logger LOG = Logger.getLogger(BackupCodeAuthenticatorFactory.class);

    private static final List<ProviderConfigProperty> CONFIG = ProviderConfigurationBuilder.create()
            .property().name(RealmOptions.LOW_THRESHOLD).label("Low-codes threshold")
            .helpText("After a successful backup-code login, offer to generate new codes when this many or fewer remain. 0 turns the notice off.")
            .type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(RealmOptions.DEFAULT_LOW_THRESHOLD).add()
            .build();

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
        return true;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
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
