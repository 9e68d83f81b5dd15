package io.github.backupcodes.keycloak.admin;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.contract.Contract;
import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.models.utils.PostMigrationEvent;
import org.keycloak.services.ui.extend.UiTabProvider;
import org.keycloak.timer.ScheduledTask;
import org.keycloak.timer.TimerProvider;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps the "Backup codes" tab's component row equal to what the bridge stores, because the console shows that row
 * and nothing else. For every realm that {@code realm install} set up (it has {@code backupCodes.rememberDeviceDays})
 * or that already has the tab's row, it reads {@code GET /v1/realms/{realm}/policy} and rewrites the row when the
 * bridge's values differ (a change made with {@code backup-codes policy set}), creating it on first sight so the tab
 * opens with the bridge's values instead of blanks. Runs every
 * {@code --spi-authenticator--backup-code--admin-tab-refresh-seconds} (default 30) on every Keycloak node, the first
 * time one interval after start-up; 0 turns it off (the row then changes only when the tab is saved).
 * A realm whose bridge call fails keeps its row as it is, and the next save still goes through the bridge first.
 */
final class PolicyRefresh {

    static final String SECONDS_OPTION = "admin-tab-refresh-seconds";
    static final int DEFAULT_SECONDS = 30;

    private static final Logger LOG = Logger.getLogger(PolicyRefresh.class);
    private static final String TYPE = UiTabProvider.class.getName();
    private static final ThreadLocal<Boolean> REFRESHING = ThreadLocal.withInitial(() -> false);

    private final BridgeSettings settings;
    private final int seconds;

    PolicyRefresh(BridgeSettings settings, int seconds) {
        this.settings = settings;
        this.seconds = Math.max(0, seconds);
    }

    /** True while this class writes the row: the factory then skips its write-through (the values came from there). */
    static boolean isRefreshing() {
        return REFRESHING.get();
    }

    void start(KeycloakSessionFactory factory) {
        factory.register(event -> {
            // Not at start-up itself: with the bridge down, one call per realm would hold up Keycloak's start.
            if (event instanceof PostMigrationEvent) {
                if (seconds > 0) {
                    KeycloakModelUtils.runJobInTransaction(factory, session -> session.getProvider(TimerProvider.class)
                            .scheduleTask(task(), seconds * 1000L, "backup-codes-policy-refresh"));
                }
            }
        });
    }

    private ScheduledTask task() {
        return this::refreshAll;
    }

    void refreshAll(KeycloakSession session) {
        if (!settings.configured()) {
            return;
        }
        session.realms().getRealmsStream().filter(realm -> row(realm).isPresent()
                        || realm.getAttribute(Contract.ATTR_REMEMBER_DEVICE_DAYS) != null)
                .toList().forEach(realm -> refresh(session, realm));
    }

    private void refresh(KeycloakSession session, RealmModel realm) {
        Map<String, List<String>> bridge;
        try {
            session.getContext().setRealm(realm); // the API key may be a ${vault.x} of this realm
            String policy = BridgeAccess.of(session, settings, realm).client().policy(realm.getName());
            bridge = PolicyForm.fromBridge(policy, days(realm), ResetFlowMode.of(realm));
        } catch (BridgeUnavailableException | PolicyForm.Invalid | RuntimeException e) {
            LOG.debugf("backup-codes tab of realm %s not refreshed: %s", realm.getName(), e.getMessage());
            return;
        }
        Optional<ComponentModel> existing = row(realm);
        REFRESHING.set(true);
        try {
            if (existing.isEmpty()) {
                realm.addComponentModel(newRow(realm, bridge));
            } else if (PolicyForm.differs(existing.get().getConfig(), bridge)) {
                ComponentModel row = new ComponentModel(existing.get());
                bridge.forEach(row.getConfig()::put);
                realm.updateComponent(row);
            }
        } finally {
            REFRESHING.set(false);
        }
    }

    private static ComponentModel newRow(RealmModel realm, Map<String, List<String>> config) {
        ComponentModel row = new ComponentModel();
        row.setName(Contract.ADMIN_TAB_ID);
        row.setProviderId(Contract.ADMIN_TAB_ID);
        row.setProviderType(TYPE);
        row.setParentId(realm.getId());
        config.forEach(row.getConfig()::put);
        row.getConfig().putSingle("tab", BackupCodesTabFactory.TAB_PARAM);
        row.getConfig().putSingle("realm", realm.getName());
        return row;
    }

    private static Optional<ComponentModel> row(RealmModel realm) {
        return realm.getComponentsStream(realm.getId(), TYPE)
                .filter(c -> Contract.ADMIN_TAB_ID.equals(c.getProviderId())).findFirst();
    }

    private static int days(RealmModel realm) {
        String value = realm.getAttribute(Contract.ATTR_REMEMBER_DEVICE_DAYS);
        try {
            return value == null ? 0 : Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
