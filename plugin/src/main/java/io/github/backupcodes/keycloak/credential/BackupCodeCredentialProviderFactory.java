package io.github.backupcodes.keycloak.credential;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.ServerConfig;
import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.Config;
import org.keycloak.credential.CredentialProviderFactory;
import org.keycloak.models.KeycloakSession;

public class BackupCodeCredentialProviderFactory implements CredentialProviderFactory<BackupCodeCredentialProvider> {

    public static final String PROVIDER_ID = Contract.CREDENTIAL_PROVIDER_ID;

    private BridgeSettings settings = new BridgeSettings(null, null);

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public void init(Config.Scope config) {
        settings = ServerConfig.load(config);
    }

    @Override
    public BackupCodeCredentialProvider create(KeycloakSession session) {
        return new BackupCodeCredentialProvider(session, settings);
    }
}
