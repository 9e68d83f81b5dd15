package io.github.backupcodes.keycloak.admin;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeRefusal;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.ServerConfig;
import io.github.backupcodes.keycloak.contract.Contract;
import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.ui.extend.UiTabProvider;
import org.keycloak.services.ui.extend.UiTabProviderFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Realm settings → "Backup codes": the realm's policy in the admin console (Keycloak's declarative UI, feature
 * {@code declarative-ui}).
 *
 * <p>The bridge is the one store. Keycloak's console saves a tab as a component row, and calls
 * {@link #validateConfiguration} <em>before</em> it writes that row; this is where the values are checked and written
 * through ({@code PUT /v1/realms/{realm}/policy}). A local refusal, a bridge refusal (422 {@code policy_invalid}) or an
 * unreachable bridge throws {@link ComponentValidationException}: the console shows the message, Keycloak writes no
 * row and the bridge stores nothing. On success the row is overwritten with what the bridge answered it now stores,
 * so the row never holds a value the bridge refused or normalised differently.
 *
 * <p>The password-reset mode is not a bridge field: a change switches the realm's reset-credentials flow
 * ({@link ResetFlowSwitch}) inside Keycloak's transaction before the bridge call; when that call fails, the
 * {@link ComponentValidationException} makes Keycloak roll the transaction back, so the flow stays as it was. The bridge's audit names the admin who saved ({@link AdminActor}), not the API key.
 *
 * <p>The console reads only that row when the tab opens (Keycloak 26.7 has no read hook), so the row is a copy. It is
 * refreshed from the bridge by {@link PolicyRefresh} (at start-up and every
 * {@code admin-tab-refresh-seconds}), so a change
 * made with {@code backup-codes policy set} shows up in the tab within that interval (docs/operations.md).
 */
public class BackupCodesTabFactory implements UiTabProvider, UiTabProviderFactory<ComponentModel> {

    private static final Logger LOG = Logger.getLogger(BackupCodesTabFactory.class);

    public static final String TAB_PARAM = "backup-codes";

    private BridgeSettings settings;
    private PolicyRefresh refresh;

    @Override
    public String getId() {
        return Contract.ADMIN_TAB_ID;
    }

    @Override
    public String getHelpText() {
        return "The realm's backup-code policy, stored in the backup-codes bridge.";
    }

    @Override
    public String getPath() {
        // ":tab?": the console matches the path against every Realm settings URL, the bare one too
        return "/:realm/realm-settings/:tab?";
    }

    @Override
    public Map<String, String> getParams() {
        return Map.of("tab", TAB_PARAM);
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return PolicyForm.properties();
    }

    @Override
    public void validateConfiguration(KeycloakSession session, RealmModel realm, ComponentModel model)
            throws ComponentValidationException {
        if (PolicyRefresh.isRefreshing()) {
            return; // the row is being set to what the bridge already stores: nothing to write through
        }
        PolicyForm.Values values;
        try {
            values = PolicyForm.parse(model.getConfig());
        } catch (PolicyForm.Invalid e) {
            throw new ComponentValidationException(e.getMessage());
        }
        String resetBefore = ResetFlowMode.of(realm);
        boolean switchReset = !values.passwordReset().equals(resetBefore);
        if (switchReset) {
            Optional<String> refusal = ResetFlowSwitch.refusal(realm, values.passwordReset());
            if (refusal.isPresent()) {
                throw new ComponentValidationException(refusal.get());
            }
            // In Keycloak's transaction, before the bridge call: a refusal below (ComponentValidationException)
            // makes Keycloak roll that transaction back, flow change included.
            ResetFlowSwitch.apply(realm, values.passwordReset());
        }
        String stored;
        try {
            stored = BridgeAccess.of(session, settings, realm).client()
                    .updatePolicy(realm.getName(), PolicyForm.json(values.policy(), AdminActor.of(session)));
        } catch (BridgeRefusal e) {
            throw new ComponentValidationException(e.getMessage());
        } catch (BridgeUnavailableException e) {
            LOG.warnf("backup-codes policy of realm %s not saved: %s", realm.getName(), e.getMessage());
            throw new ComponentValidationException(
                    "The backup-codes bridge is unreachable; nothing was saved. Try again when it is up.");
        }
        realm.setAttribute(Contract.ATTR_REMEMBER_DEVICE_DAYS, Integer.toString(values.rememberDeviceDays()));
        try {
            PolicyForm.fromBridge(stored, values.rememberDeviceDays(),
                    // Keycloak's JPA model keeps a removed execution in its flow's list until the commit, so the
                    // flow is not read back here: it is in the mode just applied.
                    switchReset ? values.passwordReset() : resetBefore).forEach(model.getConfig()::put);
        } catch (PolicyForm.Invalid e) {
            throw new ComponentValidationException(e.getMessage());
        }
    }

    @Override
    public UiTabProvider create(KeycloakSession session) {
        return this;
    }

    @Override
    public void init(Config.Scope config) {
        settings = ServerConfig.load(config);
        // The tab's id has a space (the console shows it as the title), so its option lives with the other
        // server-level options: --spi-authenticator--backup-code--admin-tab-refresh-seconds.
        Config.Scope shared = Config.scope("authenticator", "backup-code");
        refresh = new PolicyRefresh(settings, shared.getInt(PolicyRefresh.SECONDS_OPTION, PolicyRefresh.DEFAULT_SECONDS));
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        refresh.start(factory);
    }

    @Override
    public void close() {
        // Keycloak closes the factory and its providers alike; the scheduled refresh ends with the server.
    }
}
