package io.github.backupcodes.keycloak.event;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.ServerConfig;
import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.Config;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;

/** Event listener {@code backup-codes}; {@code realm install} adds it to the realm's event listeners. */
public class BackupCodesEventListenerFactory implements EventListenerProviderFactory {

    public static final String PROVIDER_ID = Contract.EVENT_LISTENER_ID;

    private BridgeSettings settings = new BridgeSettings(null, null);
    private KeycloakSessionFactory sessionFactory;

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new BackupCodesEventListener(session, sessionFactory, settings);
    }

    @Override
    public void init(Config.Scope config) {
        settings = ServerConfig.load(config);
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        this.sessionFactory = factory;
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }
}
