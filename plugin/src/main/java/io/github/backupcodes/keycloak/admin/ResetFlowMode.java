package io.github.backupcodes.keycloak.admin;

import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.AuthenticationFlowModel;
import org.keycloak.models.RealmModel;

import java.util.List;

/**
 * The realm's password-reset mode as {@code realm install --reset-mode} left it, read from the realm's
 * reset-credentials flow: our flow copy with the backup-code step as a CONDITIONAL sub-flow after the email link
 * (email+code), or as a REQUIRED one (code-only). The tab shows it and ignores what is typed there; changing the
 * flow stays with {@code realm install}, which also keeps the previous flow to go back to.
 */
public final class ResetFlowMode {

    public static final String NOT_INSTALLED = "none (the realm's reset flow has no backup-code step)";
    public static final String EDITED = "edited (not a shape realm install makes)";

    private ResetFlowMode() {
    }

    public static String of(RealmModel realm) {
        AuthenticationFlowModel flow = realm.getResetCredentialsFlow();
        if (flow == null || !Contract.RESET_FLOW_ALIAS.equals(flow.getAlias())) {
            return NOT_INSTALLED;
        }
        List<AuthenticationExecutionModel> top = realm.getAuthenticationExecutionsStream(flow.getId()).toList();
        for (AuthenticationExecutionModel step : top) {
            if (step.isAuthenticatorFlow() && realm.getAuthenticationExecutionsStream(step.getFlowId())
                    .anyMatch(e -> Contract.AUTHENTICATOR_ID.equals(e.getAuthenticator()))) {
                return mode(step.getRequirement());
            }
        }
        return EDITED;
    }

    static String mode(AuthenticationExecutionModel.Requirement stepRequirement) {
        if (stepRequirement == AuthenticationExecutionModel.Requirement.CONDITIONAL) {
            return Contract.RESET_EMAIL_AND_CODE;
        }
        if (stepRequirement == AuthenticationExecutionModel.Requirement.REQUIRED) {
            return Contract.RESET_CODE_ONLY;
        }
        return EDITED;
    }
}
