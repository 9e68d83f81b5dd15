package io.github.backupcodes.keycloak.requiredaction;

import io.github.backupcodes.keycloak.RealmOptions;
import io.github.backupcodes.keycloak.ServerConfig;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.Timeouts;
import org.keycloak.Config;
import org.keycloak.authentication.RequiredActionFactory;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

import java.util.List;
import java.util.stream.Stream;

public class BackupCodeSetupActionFactory implements RequiredActionFactory {

    private static final List<ProviderConfigProperty> CONFIG = ProviderConfigurationBuilder.create()
            .property().name(BackupCodeSetupAction.CONFIG_ENROLL_AFTER_OTP).label("Require backup codes for OTP users")
            .helpText("When on, a user who has an OTP authenticator but no backup codes is asked to set them up at login (right after OTP setup, too).")
            .type(ProviderConfigProperty.BOOLEAN_TYPE).defaultValue(true).add()
            .property().name(RealmOptions.CONNECT_TIMEOUT_MS).label("Bridge connect timeout (ms)")
            .type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(Timeouts.DEFAULT_CONNECT_MILLIS).add()
            .property().name(RealmOptions.READ_TIMEOUT_MS).label("Bridge read timeout (ms)")
            .type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(Timeouts.DEFAULT_READ_MILLIS).add()
            .build();

    private BridgeSettings settings = new BridgeSettings(null, null);

    @Override
    public String getId() {
        return BackupCodeSetupAction.PROVIDER_ID;
    }

    @Override
    public String getDisplayText() {
        return "Set up backup codes";
    }

    @Override
    public boolean isOneTimeAction() {
        return true;
    }

    @Override
    public List<ProviderConfigProperty> getConfigMetadata() {
        return Stream.concat(CONFIG.stream(), RequiredActionFactory.super.getConfigMetadata().stream()).toList();
    }

    @Override
    public RequiredActionProvider create(KeycloakSession session) {
        return new BackupCodeSetupAction(settings);
    }

    @Override
    public void init(Config.Scope config) {
        settings = ServerConfig.load(config);
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }
}
