package io.github.backupcodes.keycloak.admin;

import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.AuthenticationExecutionModel.Requirement;
import org.keycloak.models.AuthenticationFlowModel;
import org.keycloak.models.RealmModel;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The realm's password-reset mode, read from the realm's reset-credentials flow: our flow copy with the backup-code
 * step as a CONDITIONAL sub-flow after the email link (email+code), or as a REQUIRED one holding the email link as its
 * alternative (code-only). The shapes are the contract's ({@link Contract#RESET_SHAPES}), which
 * {@code realm install --reset-mode} builds and its {@code reset_mode_of} recognises (bridge/realm/model.py), so the
 * tab and the installer agree on what a flow is; any other shape is {@link #EDITED} and the tab will not switch it
 * (the installer rebuilds it).
 */
public final class ResetFlowMode {

    public static final String NOT_INSTALLED = "none (the realm's reset flow has no backup-code step)";
    public static final String EDITED = "edited (not a shape realm install makes)";

    static final String CHOOSE_USER_ID = "reset-credentials-choose-user";
    static final String RESET_EMAIL_ID = Contract.RESET_EMAIL_ID;
    static final String RESET_PASSWORD_ID = "reset-password";

    private ResetFlowMode() {
    }

    /**
     * The parts of an installed reset flow the switch moves: the top-level steps in priority order, our sub-flow's
     * execution and its children, and the email step wherever it is (top level for email+code, in the sub-flow for
     * code-only).
     */
    record Shape(String mode, AuthenticationFlowModel flow, List<AuthenticationExecutionModel> top,
                 AuthenticationExecutionModel step, List<AuthenticationExecutionModel> children,
                 AuthenticationExecutionModel email) {
    }

    public static String of(RealmModel realm) {
        AuthenticationFlowModel flow = realm.getResetCredentialsFlow();
        if (flow == null || !Contract.RESET_FLOW_ALIAS.equals(flow.getAlias())) {
            return NOT_INSTALLED;
        }
        return shape(realm).map(Shape::mode).orElse(EDITED);
    }

    /** The bound flow's shape when it is one of the two realm install makes; empty for anything else. */
    static Optional<Shape> shape(RealmModel realm) {
        AuthenticationFlowModel flow = realm.getResetCredentialsFlow();
        if (flow == null || !Contract.RESET_FLOW_ALIAS.equals(flow.getAlias())) {
            return Optional.empty();
        }
        List<AuthenticationExecutionModel> top = realm.getAuthenticationExecutionsStream(flow.getId()).toList();
        Optional<AuthenticationExecutionModel> step = top.stream().filter(e -> e.isAuthenticatorFlow()
                && realm.getAuthenticationExecutionsStream(e.getFlowId())
                .anyMatch(c -> Contract.AUTHENTICATOR_ID.equals(c.getAuthenticator()))).findFirst();
        AuthenticationExecutionModel choose = find(top, CHOOSE_USER_ID);
        AuthenticationExecutionModel password = find(top, RESET_PASSWORD_ID);
        if (step.isEmpty() || choose == null || password == null
                || !(choose.getPriority() < step.get().getPriority()
                && step.get().getPriority() < password.getPriority())) {
            return Optional.empty();
        }
        AuthenticationExecutionModel at = step.get();
        List<AuthenticationExecutionModel> children = realm.getAuthenticationExecutionsStream(at.getFlowId()).toList();
        String mode = mode(at.getRequirement());
        if (EDITED.equals(mode)) {
            return Optional.empty();
        }
        Contract.ResetShape expected = Contract.RESET_SHAPES.get(mode);
        AuthenticationExecutionModel email = expected.emailAtTopLevel()
                ? find(top, RESET_EMAIL_ID) : find(children, RESET_EMAIL_ID);
        boolean emailInPlace = expected.emailAtTopLevel()
                ? email != null && email.getPriority() < at.getPriority()
                : find(top, RESET_EMAIL_ID) == null && email != null;
        return emailInPlace && hasChildren(children, expected.children())
                ? Optional.of(new Shape(mode, flow, top, at, children, email)) : Optional.empty();
    }

    /** The sub-flow's children are the shape's, one for one, in its order and with its requirements. */
    private static boolean hasChildren(List<AuthenticationExecutionModel> children, List<Contract.ResetChild> expected) {
        if (children.size() != expected.size()) {
            return false;
        }
        for (int i = 0; i < children.size(); i++) {
            if (!is(children.get(i), expected.get(i).providerId(), requirement(expected.get(i).requirement()))) {
                return false;
            }
        }
        return true;
    }

    /** A requirement name from the contract as Keycloak's enum (a misspelt one fails the tests, not a realm). */
    static Requirement requirement(String name) {
        return Requirement.valueOf(name);
    }

    private static boolean is(AuthenticationExecutionModel execution, String authenticator, Requirement requirement) {
        return authenticator.equals(execution.getAuthenticator()) && execution.getRequirement() == requirement;
    }

    static AuthenticationExecutionModel find(List<AuthenticationExecutionModel> executions, String authenticator) {
        return executions.stream().filter(e -> !e.isAuthenticatorFlow() && authenticator.equals(e.getAuthenticator()))
                .findFirst().orElse(null);
    }

    /** The mode whose shape gives the sub-flow this requirement (the two differ), or {@link #EDITED}. */
    static String mode(AuthenticationExecutionModel.Requirement stepRequirement) {
        return Contract.RESET_SHAPES.entrySet().stream()
                .filter(entry -> requirement(entry.getValue().requirement()) == stepRequirement)
                .map(Map.Entry::getKey).findFirst().orElse(EDITED);
    }
}
