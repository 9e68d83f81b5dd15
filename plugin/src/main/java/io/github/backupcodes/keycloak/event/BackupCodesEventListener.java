package io.github.backupcodes.keycloak.event;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeClient;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.ContactPatch;
import org.jboss.logging.Logger;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.events.admin.AuthDetails;
import org.keycloak.models.AbstractKeycloakTransaction;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.KeycloakModelUtils;

import java.util.HashSet;
import java.util.Set;

/**
 * Tells the bridge about email changes and new passwords, and carries the admin console's helpdesk actions (a deleted
 * backup-code credential, "unlock user", "unlock all users") to it in the acting admin's name ({@link ConsoleHelpdesk}). Keycloak calls listeners after its own transaction
 * committed, so each call runs in a fresh session; a bridge failure is logged (no address, no token) and never
 * undoes what the user or admin just did.
 */
class BackupCodesEventListener implements EventListenerProvider {

    private static final Logger LOG = Logger.getLogger(BackupCodesEventListener.class);
    static final String ACTOR = "keycloak-event";

    private final KeycloakSession session;
    private final KeycloakSessionFactory sessionFactory;
    private final BridgeSettings settings;
    /** One listener per Keycloak session: a password change sends UPDATE_CREDENTIAL and UPDATE_PASSWORD together. */
    private final Set<BridgeCall> sent = new HashSet<>();

    /** @param session the request's session, whose commit the helpdesk calls wait for */
    public BackupCodesEventListener(KeycloakSession session, KeycloakSessionFactory sessionFactory,
                                    BridgeSettings settings) {
        this.session = session;
        this.sessionFactory = sessionFactory;
        this.settings = settings;
    }

    @Override
    public void onEvent(Event event) {
        EventMapping.forEvent(event.getType(), event.getUserId(), event.getDetails())
                .ifPresent(call -> send(event.getRealmId(), call));
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        if (event.getError() != null) {
            return;
        }
        AuthDetails admin = event.getAuthDetails();
        EventMapping.forAdminEvent(event.getOperationType(), event.getResourceType(), event.getResourcePath(),
                        admin == null ? null : admin.getRealmId(), admin == null ? null : admin.getUserId())
                .ifPresent(call -> {
                    if (call instanceof BridgeCall.HelpdeskReset || call instanceof BridgeCall.UnlockCodes
                            || call instanceof BridgeCall.UnlockAllCodes) {
                        afterCommit(event.getRealmId(), call);
                    } else {
                        send(event.getRealmId(), call);
                    }
                });
    }

    /**
     * Admin events reach listeners inside the admin's request, before its transaction commits; the helpdesk calls
     * look at what the request changed (is the marker gone?), so they run once it is committed, and not at all
     * when it rolled back.
     */
    private void afterCommit(String realmId, BridgeCall call) {
        if (session == null) {
            send(realmId, call);
            return;
        }
        session.getTransactionManager().enlistAfterCompletion(new AbstractKeycloakTransaction() {
            @Override
            protected void commitImpl() {
                send(realmId, call);
            }

            @Override
            protected void rollbackImpl() {
            }
        });
    }

    private void send(String realmId, BridgeCall call) {
        if (!settings.configured() || realmId == null || !sent.add(call)) {
            return;
        }
        try {
            KeycloakModelUtils.runJobInTransaction(sessionFactory, session -> perform(session, realmId, call));
        } catch (RuntimeException e) {
            LOG.warnf("backup-codes event listener could not run %s for user %s: %s",
                    call.getClass().getSimpleName(), call.userId(), e.getClass().getSimpleName());
            LOG.debug("backup-codes event listener failure", e);
        }
    }

    private void perform(KeycloakSession session, String realmId, BridgeCall call) {
        RealmModel realm = session.realms().getRealm(realmId);
        if (realm == null) {
            return;
        }
        // A fresh session has no realm; the vault (a ${vault.x} API key) is realm-scoped and needs it.
        session.getContext().setRealm(realm);
        try {
            BridgeClient client = BridgeAccess.of(session, settings, realm).client();
            if (call instanceof BridgeCall.PatchEmail patch) {
                client.patchContact(realm.getName(), patch.userId(), new ContactPatch().email(patch.email()));
            } else if (call instanceof BridgeCall.RefreshEmail refresh) {
                UserModel user = session.users().getUserById(realm, refresh.userId());
                if (user != null) {
                    client.patchContact(realm.getName(), user.getId(), new ContactPatch().email(user.getEmail()));
                }
            } else if (call instanceof BridgeCall.ForgetDevices forget) {
                client.forgetDevices(realm.getName(), forget.userId(), ACTOR, forget.reason());
            } else if (call instanceof BridgeCall.HelpdeskReset reset) {
                ConsoleHelpdesk.of(session, realm, client).reset(reset);
            } else if (call instanceof BridgeCall.UnlockCodes unlock) {
                ConsoleHelpdesk.of(session, realm, client).unlock(unlock);
            } else if (call instanceof BridgeCall.UnlockAllCodes unlockAll) {
                ConsoleHelpdesk.of(session, realm, client).unlockAll(unlockAll);
            }
        } catch (BridgeUnavailableException e) {
            LOG.warnf("backup-codes bridge did not take %s for user %s", call.getClass().getSimpleName(), call.userId());
        }
    }

    @Override
    public void close() {
    }
}
