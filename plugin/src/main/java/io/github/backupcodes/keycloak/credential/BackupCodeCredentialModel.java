package io.github.backupcodes.keycloak.credential;

import io.github.backupcodes.keycloak.contract.Contract;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.keycloak.common.util.Time;
import org.keycloak.credential.CredentialModel;

/**
 * A marker that says "this user enrolled backup codes in the bridge". It holds no secret: the codes and their hashes
 * live only in the bridge. Keycloak needs a stored credential of our type so that "Try another way" lists backup codes
 * only for users who have them, and so that the Account Console shows them under two-factor authentication.
 */
public class BackupCodeCredentialModel extends CredentialModel {

    public static final String TYPE = Contract.CREDENTIAL_TYPE;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static BackupCodeCredentialModel create(String setId, String createdAt) {
        BackupCodeCredentialModel model = new BackupCodeCredentialModel();
        model.setType(TYPE);
        model.setUserLabel("Backup codes");
        model.setCreatedDate(Time.currentTimeMillis());
        ObjectNode data = MAPPER.createObjectNode();
        data.put("setId", setId == null ? "" : setId);
        data.put("createdAt", createdAt == null ? "" : createdAt);
        data.put("storage", "bridge");
        model.setCredentialData(data.toString());
        model.setSecretData("{}");
        return model;
    }

    public static BackupCodeCredentialModel fromModel(CredentialModel stored) {
        BackupCodeCredentialModel model = new BackupCodeCredentialModel();
        model.setId(stored.getId());
        model.setType(stored.getType());
        model.setUserLabel(stored.getUserLabel());
        model.setCreatedDate(stored.getCreatedDate());
        model.setCredentialData(stored.getCredentialData());
        model.setSecretData(stored.getSecretData());
        model.setFederationLink(stored.getFederationLink());
        return model;
    }
}
