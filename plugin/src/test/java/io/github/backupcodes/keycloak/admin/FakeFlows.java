package io.github.backupcodes.keycloak.admin;

import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.AuthenticationExecutionModel.Requirement;
import org.keycloak.models.AuthenticationFlowModel;
import org.keycloak.models.RealmModel;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A realm holding only authentication flows, behind {@link RealmModel}'s flow methods (as Keycloak's model answers
 * them: fresh copies, executions in priority order), so the reset-flow switch is tested without a server. Any other
 * RealmModel method throws.
 */
final class FakeFlows {

    static final String RESET = "reset credentials with backup codes";

    final Map<String, AuthenticationFlowModel> flows = new LinkedHashMap<>();
    final List<AuthenticationExecutionModel> executions = new ArrayList<>();
    /** Removed, but still listed in their flow until {@link #commit()}: Keycloak's JPA model does the same. */
    final List<AuthenticationExecutionModel> removed = new ArrayList<>();
    String resetFlowId;
    private int ids;

    /** The copy realm install makes in email+code mode (from Keycloak's built-in "reset credentials"). */
    static FakeFlows emailAndCode(int choosePriority, int stepPriority) {
        FakeFlows realm = new FakeFlows();
        String top = realm.flow(RESET);
        realm.resetFlowId = top;
        realm.step(top, "reset-credentials-choose-user", Requirement.REQUIRED, choosePriority);
        realm.step(top, "reset-credential-email", Requirement.REQUIRED, choosePriority + 1);
        String sub = realm.subFlow(top, RESET + " - backup code", Requirement.CONDITIONAL, stepPriority);
        realm.step(sub, "conditional-user-configured", Requirement.REQUIRED, 10);
        realm.step(sub, "backup-code", Requirement.REQUIRED, 20);
        realm.step(top, "reset-password", Requirement.REQUIRED, 30);
        return realm;
    }

    /** The copy realm install makes in code-only mode. */
    static FakeFlows codeOnly(int choosePriority, int stepPriority) {
        FakeFlows realm = new FakeFlows();
        String top = realm.flow(RESET);
        realm.resetFlowId = top;
        realm.step(top, "reset-credentials-choose-user", Requirement.REQUIRED, choosePriority);
        String sub = realm.subFlow(top, RESET + " - email or backup code", Requirement.REQUIRED, stepPriority);
        realm.step(sub, "backup-code", Requirement.ALTERNATIVE, 10);
        realm.step(sub, "reset-credential-email", Requirement.ALTERNATIVE, 20);
        realm.step(top, "reset-password", Requirement.REQUIRED, 30);
        return realm;
    }

    String flow(String alias) {
        AuthenticationFlowModel flow = new AuthenticationFlowModel();
        flow.setId("flow-" + ++ids);
        flow.setAlias(alias);
        flow.setTopLevel(true);
        flows.put(flow.getId(), flow);
        return flow.getId();
    }

    String subFlow(String parent, String alias, Requirement requirement, int priority) {
        String id = flow(alias);
        AuthenticationExecutionModel execution = execution(parent, null, requirement, priority);
        execution.setAuthenticatorFlow(true);
        execution.setFlowId(id);
        executions.add(execution);
        return id;
    }

    AuthenticationExecutionModel step(String parent, String authenticator, Requirement requirement, int priority) {
        AuthenticationExecutionModel execution = execution(parent, authenticator, requirement, priority);
        executions.add(execution);
        return execution;
    }

    private AuthenticationExecutionModel execution(String parent, String authenticator, Requirement requirement,
                                                   int priority) {
        AuthenticationExecutionModel execution = new AuthenticationExecutionModel();
        execution.setId("exec-" + ++ids);
        execution.setParentFlow(parent);
        execution.setAuthenticator(authenticator);
        execution.setRequirement(requirement);
        execution.setPriority(priority);
        return execution;
    }

    /** The reset flow as lines in Keycloak's order: "authenticator REQUIREMENT", sub-flows by alias, indented. */
    List<String> describe() {
        List<String> lines = new ArrayList<>();
        describe(resetFlowId, "", lines);
        return lines;
    }

    private void describe(String flowId, String indent, List<String> lines) {
        for (AuthenticationExecutionModel e : children(flowId)) {
            String name = e.isAuthenticatorFlow() ? flows.get(e.getFlowId()).getAlias() : e.getAuthenticator();
            lines.add(indent + name + " " + e.getRequirement());
            if (e.isAuthenticatorFlow()) {
                describe(e.getFlowId(), indent + "  ", lines);
            }
        }
    }

    /** The transaction ends: removed executions leave their flows' lists. */
    void commit() {
        removed.clear();
    }

    List<AuthenticationExecutionModel> children(String flowId) {
        return executions.stream().filter(e -> flowId.equals(e.getParentFlow()))
                .sorted(Comparator.comparingInt(AuthenticationExecutionModel::getPriority)).toList();
    }

    RealmModel model() {
        return (RealmModel) Proxy.newProxyInstance(RealmModel.class.getClassLoader(), new Class<?>[]{RealmModel.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getName" -> "acme";
                    case "getResetCredentialsFlow" -> resetFlowId == null ? null : copy(flows.get(resetFlowId));
                    case "getAuthenticationFlowById" -> flows.containsKey((String) args[0])
                            ? copy(flows.get((String) args[0])) : null;
                    case "getFlowByAlias" -> flows.values().stream().filter(f -> f.getAlias().equals(args[0]))
                            .findFirst().map(FakeFlows::copy).orElse(null);
                    case "updateAuthenticationFlow" -> {
                        AuthenticationFlowModel flow = (AuthenticationFlowModel) args[0];
                        flows.put(flow.getId(), copy(flow));
                        yield null;
                    }
                    case "getAuthenticationExecutionsStream" -> Stream.concat(
                                    children((String) args[0]).stream(),
                                    removed.stream().filter(e -> args[0].equals(e.getParentFlow())))
                            .sorted(Comparator.comparingInt(AuthenticationExecutionModel::getPriority))
                            .map(FakeFlows::copy);
                    case "addAuthenticatorExecution" -> {
                        AuthenticationExecutionModel added = (AuthenticationExecutionModel) args[0];
                        added.setId("exec-" + ++ids);
                        executions.add(copy(added));
                        yield added;
                    }
                    case "updateAuthenticatorExecution" -> {
                        AuthenticationExecutionModel updated = (AuthenticationExecutionModel) args[0];
                        executions.replaceAll(e -> e.getId().equals(updated.getId()) ? copy(updated) : e);
                        yield null;
                    }
                    case "removeAuthenticatorExecution" -> {
                        String id = ((AuthenticationExecutionModel) args[0]).getId();
                        executions.stream().filter(e -> e.getId().equals(id)).forEach(removed::add);
                        executions.removeIf(e -> e.getId().equals(id));
                        yield null;
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static AuthenticationFlowModel copy(AuthenticationFlowModel flow) {
        AuthenticationFlowModel copy = new AuthenticationFlowModel();
        copy.setId(flow.getId());
        copy.setAlias(flow.getAlias());
        copy.setDescription(flow.getDescription());
        copy.setTopLevel(flow.isTopLevel());
        return copy;
    }

    private static AuthenticationExecutionModel copy(AuthenticationExecutionModel e) {
        AuthenticationExecutionModel copy = new AuthenticationExecutionModel();
        copy.setId(e.getId());
        copy.setParentFlow(e.getParentFlow());
        copy.setAuthenticator(e.getAuthenticator());
        copy.setAuthenticatorFlow(e.isAuthenticatorFlow());
        copy.setFlowId(e.getFlowId());
        copy.setRequirement(e.getRequirement());
        copy.setPriority(e.getPriority());
        return copy;
    }
}
