package io.github.backupcodes.keycloak.admin;

import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.AuthenticationExecutionModel.Requirement;
import org.keycloak.models.AuthenticationFlowModel;
import org.keycloak.models.RealmModel;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Switches the realm's installed reset-credentials flow between the two modes, in place and inside Keycloak's
 * transaction, into exactly the shape {@code realm install --reset-mode} builds: so a later plain
 * {@code realm install} finds the realm installed and keeps the mode the tab chose (it only rebuilds the flow when
 * {@code --reset-mode} asks for another one).
 *
 * <ul>
 *   <li>email+code: Choose User, Send Reset Email, the CONDITIONAL sub-flow {@code ... - backup code}
 *       [Condition - user configured (REQUIRED), backup code (REQUIRED)], Reset Password, ...</li>
 *   <li>code-only: Choose User, the REQUIRED sub-flow {@code ... - email or backup code}
 *       [backup code (ALTERNATIVE), Send Reset Email (ALTERNATIVE)], Reset Password, ...</li>
 * </ul>
 *
 * Only a flow in one of those shapes is switched; anything else is refused before anything changes (the message
 * names the field and says to run realm install).
 */
final class ResetFlowSwitch {

    static final String STEP_ALIAS_EMAIL_AND_CODE = Contract.RESET_STEP_EMAIL_AND_CODE;
    static final String STEP_ALIAS_CODE_ONLY = Contract.RESET_STEP_CODE_ONLY;

    private ResetFlowSwitch() {
    }

    /** Why the realm's flow cannot be switched to {@code mode}, or empty when it can (or already is in it). */
    static Optional<String> refusal(RealmModel realm, String mode) {
        if (!Contract.RESET_EMAIL_AND_CODE.equals(mode) && !Contract.RESET_CODE_ONLY.equals(mode)) {
            return Optional.of(field() + " must be " + Contract.RESET_EMAIL_AND_CODE + " or " + Contract.RESET_CODE_ONLY);
        }
        if (ResetFlowMode.shape(realm).isPresent()) {
            return Optional.empty();
        }
        return Optional.of(field() + ": the realm's reset-credentials flow is "
                + (ResetFlowMode.NOT_INSTALLED.equals(ResetFlowMode.of(realm))
                ? "not the one realm install made" : "not in a shape realm install makes (it was edited)")
                + ", so it cannot be switched to " + mode + ". Run: backup-codes realm install --realm "
                + realm.getName() + " --reset-mode " + mode + ". Nothing was saved.");
    }

    /** Puts the installed flow into {@code mode}; nothing happens when it is in that mode already. */
    static void apply(RealmModel realm, String mode) {
        ResetFlowMode.Shape shape = ResetFlowMode.shape(realm).orElseThrow(
                () -> new IllegalStateException(refusal(realm, mode).orElse("reset flow not installed")));
        if (shape.mode().equals(mode)) {
            return;
        }
        if (Contract.RESET_CODE_ONLY.equals(mode)) {
            toCodeOnly(realm, shape);
        } else {
            toEmailAndCode(realm, shape);
        }
    }

    /** The email step moves into the sub-flow as the second way through it; the condition goes. */
    private static void toCodeOnly(RealmModel realm, ResetFlowMode.Shape shape) {
        realm.removeAuthenticatorExecution(shape.email());
        String stepFlow = shape.step().getFlowId();
        for (AuthenticationExecutionModel child : shape.children()) {
            if (ResetFlowMode.USER_CONFIGURED_ID.equals(child.getAuthenticator())) {
                realm.removeAuthenticatorExecution(child);
            } else {
                child.setRequirement(Requirement.ALTERNATIVE);
                child.setPriority(10);
                realm.updateAuthenticatorExecution(child);
            }
        }
        realm.addAuthenticatorExecution(execution(stepFlow, ResetFlowMode.RESET_EMAIL_ID, Requirement.ALTERNATIVE, 20));
        shape.step().setRequirement(Requirement.REQUIRED);
        realm.updateAuthenticatorExecution(shape.step());
        rename(realm, stepFlow, STEP_ALIAS_CODE_ONLY, Contract.RESET_CODE_ONLY);
    }

    /** The email step comes back to the top level before the sub-flow, which asks only users who have codes. */
    private static void toEmailAndCode(RealmModel realm, ResetFlowMode.Shape shape) {
        String stepFlow = shape.step().getFlowId();
        realm.removeAuthenticatorExecution(shape.email());
        realm.addAuthenticatorExecution(execution(stepFlow, ResetFlowMode.USER_CONFIGURED_ID, Requirement.REQUIRED, 10));
        AuthenticationExecutionModel ours = ResetFlowMode.find(shape.children(), Contract.AUTHENTICATOR_ID);
        ours.setRequirement(Requirement.REQUIRED);
        ours.setPriority(20);
        realm.updateAuthenticatorExecution(ours);
        shape.step().setRequirement(Requirement.CONDITIONAL);
        realm.updateAuthenticatorExecution(shape.step());
        AuthenticationExecutionModel email = execution(shape.flow().getId(), ResetFlowMode.RESET_EMAIL_ID,
                Requirement.REQUIRED, 0);
        placeBefore(realm, shape.top(), shape.step(), email);
        rename(realm, stepFlow, STEP_ALIAS_EMAIL_AND_CODE, Contract.RESET_EMAIL_AND_CODE);
    }

    /**
     * Adds {@code added} at the top level just before {@code step}: between its neighbours' priorities when there is
     * room, else the top level is renumbered 10, 20, ... in the same order.
     */
    private static void placeBefore(RealmModel realm, List<AuthenticationExecutionModel> top,
                                    AuthenticationExecutionModel step, AuthenticationExecutionModel added) {
        int index = top.indexOf(step);
        int below = index == 0 ? 0 : top.get(index - 1).getPriority();
        if (step.getPriority() - below >= 2) {
            added.setPriority((below + step.getPriority()) / 2);
            realm.addAuthenticatorExecution(added);
            return;
        }
        List<AuthenticationExecutionModel> order = new ArrayList<>(top);
        order.add(index, added);
        for (int i = 0; i < order.size(); i++) {
            order.get(i).setPriority((i + 1) * 10);
            if (order.get(i) == added) {
                realm.addAuthenticatorExecution(added);
            } else {
                realm.updateAuthenticatorExecution(order.get(i));
            }
        }
    }

    private static AuthenticationExecutionModel execution(String parentFlow, String authenticator,
                                                          Requirement requirement, int priority) {
        AuthenticationExecutionModel execution = new AuthenticationExecutionModel();
        execution.setParentFlow(parentFlow);
        execution.setAuthenticator(authenticator);
        execution.setAuthenticatorFlow(false);
        execution.setRequirement(requirement);
        execution.setPriority(priority);
        return execution;
    }

    /** The sub-flow takes the alias realm install gives it in that mode, unless another flow has it already. */
    private static void rename(RealmModel realm, String flowId, String alias, String mode) {
        AuthenticationFlowModel flow = realm.getAuthenticationFlowById(flowId);
        if (flow == null || realm.getFlowByAlias(alias) != null) {
            return;
        }
        flow.setAlias(alias);
        flow.setDescription("backup codes in the password reset (" + mode + ")");
        realm.updateAuthenticationFlow(flow);
    }

    private static String field() {
        return "Password reset (" + PolicyForm.PASSWORD_RESET + ")";
    }
}
