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
 * The shapes are the contract's ({@link Contract#RESET_SHAPES}, bridge/contract.json {@code resetFlow.shapes}):
 * <ul>
 *   <li>email+code: Choose User, Send Reset Email, the CONDITIONAL sub-flow {@code ... - backup code}
 *       [Condition - user configured (REQUIRED), backup code (REQUIRED)], Reset Password, ...</li>
 *   <li>code-only: Choose User, the REQUIRED sub-flow {@code ... - email or backup code}
 *       [backup code (ALTERNATIVE), Send Reset Email (ALTERNATIVE)], Reset Password, ...</li>
 * </ul>
 * Here is only the mechanics of moving between them: which executions go, come or change, and their priorities.
 *
 * Only a flow in one of those shapes is switched; anything else is refused before anything changes (the message
 * names the field and says to run realm install).
 */
final class ResetFlowSwitch {

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
        Contract.ResetShape from = Contract.RESET_SHAPES.get(shape.mode());
        Contract.ResetShape to = Contract.RESET_SHAPES.get(mode);
        String stepFlow = shape.step().getFlowId();
        if (from.emailAtTopLevel() && !to.emailAtTopLevel()) {
            realm.removeAuthenticatorExecution(shape.email()); // it comes back inside the sub-flow
        }
        reshapeChildren(realm, stepFlow, shape.children(), to.children());
        shape.step().setRequirement(ResetFlowMode.requirement(to.requirement()));
        realm.updateAuthenticatorExecution(shape.step());
        if (to.emailAtTopLevel() && !from.emailAtTopLevel()) {
            placeBefore(realm, shape.top(), shape.step(),
                    execution(shape.flow().getId(), ResetFlowMode.RESET_EMAIL_ID, Requirement.REQUIRED, 0));
        }
        rename(realm, stepFlow, Contract.RESET_STEP_ALIAS.get(mode), mode);
    }

    /**
     * Makes the sub-flow's children the shape's: a child the shape does not have goes (the condition, or the email
     * step leaving for the top level), one it has is kept with the shape's requirement, a missing one is added; the
     * priorities are 10, 20, ... in the shape's order, as realm install gives them.
     */
    private static void reshapeChildren(RealmModel realm, String stepFlow, List<AuthenticationExecutionModel> children,
                                        List<Contract.ResetChild> wanted) {
        List<AuthenticationExecutionModel> kept = new ArrayList<>();
        for (Contract.ResetChild child : wanted) {
            kept.add(ResetFlowMode.find(children, child.providerId()));
        }
        children.stream().filter(child -> !kept.contains(child)).forEach(realm::removeAuthenticatorExecution);
        for (int i = 0; i < wanted.size(); i++) {
            Requirement requirement = ResetFlowMode.requirement(wanted.get(i).requirement());
            AuthenticationExecutionModel child = kept.get(i);
            if (child == null) {
                realm.addAuthenticatorExecution(execution(stepFlow, wanted.get(i).providerId(), requirement, (i + 1) * 10));
            } else {
                child.setRequirement(requirement);
                child.setPriority((i + 1) * 10);
                realm.updateAuthenticatorExecution(child);
            }
        }
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
