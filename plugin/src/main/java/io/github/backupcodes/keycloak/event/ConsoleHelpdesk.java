package io.github.backupcodes.keycloak.event;

import io.github.backupcodes.keycloak.bridge.BridgeClient;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.contract.Contract;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialModel;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialProvider;
import org.jboss.logging.Logger;
import org.keycloak.credential.CredentialProvider;
import org.keycloak.events.Details;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventType;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ModelException;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

/**
 * The helpdesk's work done in the Keycloak admin console, carried to the bridge after Keycloak committed it.
 *
 * <p>Deleting a user's backup-code credential is the helpdesk reset: Keycloak's admin API removes the stored
 * credential without asking its provider, and its admin event names only the credential's id; so a deleted credential
 * counts as ours when the user has no backup-code marker left while the bridge still holds a set. Then the bridge
 * revokes the set, audits the reset in the admin's name ({@code keycloak-admin:<realm>/<username>}), mails the user,
 * and Keycloak requires a new set at the next login, and a REMOVE_CREDENTIAL user event records it in the realm's events.
 * Keycloak has no field for the identity check: it is the runbook's (docs/operations.md, helpdesk), and the audit says so.
 *
 * <p>"Unlock user" (brute-force detection) lifts the bridge's temporary codes lock too, never a permanent one;
 * "unlock all users" lifts every temporary codes lock of the realm in one bridge call, each user audited in the
 * admin's name.
 */
final class ConsoleHelpdesk {

    private static final Logger LOG = Logger.getLogger(ConsoleHelpdesk.class);

    static final String RESET_REASON = "backup-code credential deleted in the Keycloak admin console";
    static final String IDENTITY_CHECK = "per the helpdesk runbook (docs/operations.md); not recorded by Keycloak, "
            + "see the admin event of this deletion";
    static final String UNLOCK_REASON = "user unlocked in the Keycloak admin console (brute-force detection)";
    static final String UNLOCK_ALL_REASON = "all users unlocked in the Keycloak admin console (brute-force detection)";
    static final String CODES_LOCK = "codes";

    private final KeycloakSession session;
    private final RealmModel realm;
    private final BridgeClient client;

    private ConsoleHelpdesk(KeycloakSession session, RealmModel realm, BridgeClient client) {
        this.session = session;
        this.realm = realm;
        this.client = client;
    }

    static ConsoleHelpdesk of(KeycloakSession session, RealmModel realm, BridgeClient client) {
        return new ConsoleHelpdesk(session, realm, client);
    }

    void reset(BridgeCall.HelpdeskReset call) throws BridgeUnavailableException {
        UserModel user = session.users().getUserById(realm, call.userId());
        if (user == null || credentials().hasMarker(user)) {
            return;  // another of the user's credentials was deleted
        }
        BridgeStatus before = client.status(realm.getName(), user.getId());
        if (!before.enrolled()) {
            return;  // the bridge holds nothing for them: not a backup-code credential, or already reset
        }
        String actor = actor(session, call.adminRealmId(), call.adminUserId());
        client.reset(realm.getName(), user.getId(), actor, RESET_REASON, IDENTITY_CHECK);
        requireSetup(user);
        new EventBuilder(realm, session).event(EventType.REMOVE_CREDENTIAL).user(user)
                .detail(Details.USERNAME, user.getUsername())
                .detail(Details.CREDENTIAL_TYPE, BackupCodeCredentialModel.TYPE)
                .detail("reason", "helpdesk_reset")
                .detail("backup_codes_revoked", String.valueOf(before.remaining()))
                .detail("admin", actor)
                .success();
    }

    void unlock(BridgeCall.UnlockCodes call) throws BridgeUnavailableException {
        String actor = actor(session, call.adminRealmId(), call.adminUserId());
        if (!client.unlockTemporary(realm.getName(), call.userId(), CODES_LOCK, actor, UNLOCK_REASON)) {
            LOG.debugf("no temporary backup-code lock to lift for user %s", call.userId());
        }
    }

    void unlockAll(BridgeCall.UnlockAllCodes call) throws BridgeUnavailableException {
        String actor = actor(session, call.adminRealmId(), call.adminUserId());
        int lifted = client.unlockAllTemporaryCodes(realm.getName(), actor, UNLOCK_ALL_REASON);
        LOG.debugf("lifted the temporary backup-code locks of %d users of realm %s", lifted, realm.getName());
    }

    /** Enrolment at the next login; on a read-only user the setup action still asks (the bridge says a set is due). */
    private static void requireSetup(UserModel user) {
        try {
            user.addRequiredAction(Contract.SETUP_ACTION_ID);
        } catch (ModelException | UnsupportedOperationException e) {
            LOG.debugf("user %s is read-only: the bridge's enroll_required asks for the new set", user.getId());
        }
    }

    /** Who the bridge audit names: {@code keycloak-admin:<admin realm>/<username>}, ids when they are gone. */
    static String actor(KeycloakSession session, String adminRealmId, String adminUserId) {
        RealmModel adminRealm = adminRealmId == null ? null : session.realms().getRealm(adminRealmId);
        UserModel admin = adminRealm == null || adminUserId == null ? null : session.users().getUserById(adminRealm, adminUserId);
        return label(adminRealm == null ? adminRealmId : adminRealm.getName(),
                admin == null ? adminUserId : admin.getUsername());
    }

    static String label(String realmName, String username) {
        return "keycloak-admin:" + (realmName == null ? "?" : realmName) + "/" + (username == null ? "?" : username);
    }

    private BackupCodeCredentialProvider credentials() {
        return (BackupCodeCredentialProvider) session.getProvider(CredentialProvider.class, BackupCodeCredentialModel.TYPE);
    }
}
