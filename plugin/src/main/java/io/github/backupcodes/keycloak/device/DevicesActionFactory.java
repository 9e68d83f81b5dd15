package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.ServerConfig;
import org.keycloak.Config;
import org.keycloak.authentication.RequiredActionFactory;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;

public class DevicesActionFactory implements RequiredActionFactory {

    private BridgeSettings settings = new BridgeSettings(null, null);

    @Override
    public String getId() {
        return DevicesAction.PROVIDER_ID;
    }

    @Override
    public String getDisplayText() {
        return "Remembered devices (backup codes)";
    }

    @Override
    public boolean isOneTimeAction() {
        return true;
    }

    @Override
    public RequiredActionProvider create(KeycloakSession session) {
        return new DevicesAction(settings);
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
