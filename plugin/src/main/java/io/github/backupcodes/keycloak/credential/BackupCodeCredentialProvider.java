package io.github.backupcodes.keycloak.credential;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.contract.Contract;
import org.jboss.logging.Logger;
import org.keycloak.credential.CredentialModel;
import org.keycloak.credential.CredentialProvider;
import org.keycloak.credential.CredentialTypeMetadata;
import org.keycloak.credential.CredentialTypeMetadataContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

import java.util.List;
import java.util.Objects;

/** Stores and removes the no-secret marker credential; removal also revokes the set in the bridge. */
public class BackupCodeCredentialProvider implements CredentialProvider<BackupCodeCredentialModel> {

    private static final Logger LOG = Logger.getLogger(BackupCodeCredentialProvider.class);

    private final KeycloakSession session;
    private final BridgeSettings settings;

    public BackupCodeCredentialProvider(KeycloakSession session, BridgeSettings settings) {
        this.session = session;
        this.settings = settings;
    }

    @Override
    public String getType() {
        return BackupCodeCredentialModel.TYPE;
    }

    /** One marker per user; it goes last so a user's OTP or passkey stays the default second factor. (Only a createAction: Keycloak refuses metadata with both create and update actions.) */
    @Override
    public CredentialModel createCredential(RealmModel realm, UserModel user, BackupCodeCredentialModel model) {
        removeMarkers(user);
        CredentialModel created = user.credentialManager().createStoredCredential(model);
        moveLast(user, created.getId());
        return created;
    }

    /** Revoke in the bridge first: if that fails, keep the marker, so Keycloak never forgets codes that still work. */
    @Override
    public boolean deleteCredential(RealmModel realm, UserModel user, String credentialId) {
        try {
            BridgeAccess.of(session, settings, realm).client().revoke(realm.getName(), user.getId());
        } catch (BridgeUnavailableException e) {
            LOG.warnf("not removing backup-code marker for user %s: bridge revoke failed", user.getId());
            return false;
        }
        BridgeAccess.of(session, settings, realm).forget(user);
        return user.credentialManager().removeStoredCredentialById(credentialId);
    }

    @Override
    public BackupCodeCredentialModel getCredentialFromModel(CredentialModel model) {
        return BackupCodeCredentialModel.fromModel(model);
    }

    @Override
    public CredentialTypeMetadata getCredentialTypeMetadata(CredentialTypeMetadataContext metadataContext) {
        return CredentialTypeMetadata.builder()
                .type(getType())
                .category(CredentialTypeMetadata.Category.TWO_FACTOR)
                .displayName("backupCodeDisplayName")
                .helpText("backupCodeHelpText")
                .iconCssClass("kcAuthenticatorRecoveryAuthnCodesClass")
                .createAction(Contract.SETUP_ACTION_ID)
                .removeable(true)
                .build(session);
    }

    @Override
    public boolean supportsCredentialType(String credentialType) {
        return getType().equals(credentialType);
    }

    /**
     * Write the bridge's status into the marker's label and data, so the admin console's Credentials tab shows it.
     * Only when it changed; best effort (a read-only store or a concurrent update must not fail a login).
     */
    public void refresh(UserModel user, BridgeStatus status) {
        try {
            user.credentialManager().getStoredCredentialsByTypeStream(getType()).toList().forEach(stored ->
                    MarkerStatus.refreshed(stored, status).ifPresent(user.credentialManager()::updateStoredCredential));
        } catch (RuntimeException e) {
            LOG.debugf("could not refresh the backup-code marker of user %s: %s", user.getId(), e.getClass().getSimpleName());
        }
    }

    public boolean hasMarker(UserModel user) {
        return user.credentialManager().getStoredCredentialsByTypeStream(getType()).anyMatch(Objects::nonNull);
    }

    /** Drop the marker without touching the bridge (the bridge already says there is nothing). */
    public void removeMarkers(UserModel user) {
        List<String> ids = user.credentialManager().getStoredCredentialsByTypeStream(getType())
                .map(CredentialModel::getId).toList();
        ids.forEach(id -> user.credentialManager().removeStoredCredentialById(id));
    }

    /** Keep the marker after every other credential (OTP created later would otherwise come after it). */
    public void moveLast(UserModel user, String markerId) {
        List<CredentialModel> all = user.credentialManager().getStoredCredentialsStream().toList();
        if (all.isEmpty() || all.get(all.size() - 1).getId().equals(markerId)) {
            return;
        }
        String lastOther = null;
        for (CredentialModel credential : all) {
            if (!credential.getId().equals(markerId)) {
                lastOther = credential.getId();
            }
        }
        user.credentialManager().moveStoredCredentialTo(markerId, lastOther);
    }

    /** The marker's id when it is not already last, else null. */
    public String markerIfNotLast(UserModel user) {
        List<CredentialModel> all = user.credentialManager().getStoredCredentialsStream().toList();
        for (int i = 0; i < all.size(); i++) {
            if (getType().equals(all.get(i).getType())) {
                return i == all.size() - 1 ? null : all.get(i).getId();
            }
        }
        return null;
    }
}
