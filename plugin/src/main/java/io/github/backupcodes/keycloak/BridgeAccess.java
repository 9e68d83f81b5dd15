package io.github.backupcodes.keycloak;

import io.github.backupcodes.keycloak.bridge.ApiKeyResolver;
import io.github.backupcodes.keycloak.bridge.BridgeClient;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.CallBudget;
import io.github.backupcodes.keycloak.bridge.VerifyPurpose;
import io.github.backupcodes.keycloak.bridge.VerifyResult;
import io.github.backupcodes.keycloak.requiredaction.BackupCodeSetupAction;
import org.keycloak.connections.httpclient.HttpClientProvider;
import org.keycloak.common.ClientConnection;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RequiredActionConfigModel;
import org.keycloak.models.UserModel;

/**
 * Keycloak-side glue for the bridge: builds a client on Keycloak's shared HTTP client and caches the status answer
 * for the rest of the request, because {@code configuredFor} is asked several times per login step.
 *
 * <p>All bridge calls of one Keycloak request share one {@link CallBudget} (the realm's {@code bridge_budget_ms}, else
 * the server's): a hung bridge costs the person, and a Keycloak worker thread, at most that much per page.
 */
public final class BridgeAccess {

    private static final String STATUS_ATTRIBUTE = "backup-codes.status:";
    private static final String BUDGET_ATTRIBUTE = "backup-codes.budget:";
    private static final Object UNAVAILABLE = new Object();

    private BridgeAccess() {
    }

    public static BridgeClient client(KeycloakSession session, BridgeSettings settings, RealmModel realm)
            throws BridgeUnavailableException {
        if (!settings.configured()) {
            throw new BridgeUnavailableException("bridge URL or API key is not configured");
        }
        String bearer = ApiKeyResolver.resolve(session, settings.apiKey());
        HttpClientProvider provider = session.getProvider(HttpClientProvider.class);
        return new BridgeClient(provider.getHttpClient(), settings.bridgeUrl(), bearer, budget(session, settings, realm));
    }

    /** This request's budget for the realm, started by its first bridge call. */
    static CallBudget budget(KeycloakSession session, BridgeSettings settings, RealmModel realm) {
        String key = BUDGET_ATTRIBUTE + realm.getId();
        if (session.getAttribute(key) instanceof CallBudget budget) {
            return budget;
        }
        RequiredActionConfigModel config = realm.getRequiredActionConfigByAlias(BackupCodeSetupAction.PROVIDER_ID);
        int millis = RealmOptions.budgetMillis(config == null ? null : config.getConfig(), settings.budgetMillis());
        CallBudget budget = CallBudget.startingNow(millis);
        session.setAttribute(key, budget);
        return budget;
    }

    /** Status for this user, asked at most once per request (an unreachable bridge is remembered too). */
    public static BridgeStatus status(KeycloakSession session, BridgeSettings settings,
                                      RealmModel realm, UserModel user) throws BridgeUnavailableException {
        String key = STATUS_ATTRIBUTE + realm.getId() + ":" + user.getId();
        Object cached = session.getAttribute(key);
        if (cached instanceof BridgeStatus status) {
            return status;
        }
        if (cached == UNAVAILABLE) {
            throw new BridgeUnavailableException("bridge unavailable earlier in this request");
        }
        try {
            BridgeStatus status = client(session, settings, realm).status(realm.getName(), user.getId());
            session.setAttribute(key, status);
            return status;
        } catch (BridgeUnavailableException e) {
            session.setAttribute(key, UNAVAILABLE);
            throw e;
        }
    }

    /**
     * Check a typed code with the bridge for this request's client. Input over the length cap is refused here,
     * without a call; the cached status is dropped either way, since a verify may change it.
     */
    public static VerifyResult verify(KeycloakSession session, BridgeSettings settings,
                                      RealmModel realm, UserModel user, CodeInput.Checked input,
                                      VerifyPurpose purpose, boolean keycloakLocked)
            throws BridgeUnavailableException {
        if (input.verdict() == CodeInput.Verdict.TOO_LONG) {
            return VerifyResult.rejectedLocally("malformed");
        }
        try {
            ClientConnection connection = session.getContext().getConnection();
            return client(session, settings, realm).verify(
                    realm.getName(), user.getId(), input.value(), connection.getRemoteAddr(),
                    session.getContext().getRequestHeaders().getHeaderString("User-Agent"),
                    purpose, keycloakLocked);
        } finally {
            forget(session, realm, user);
        }
    }

    /** Forget the cached answer after something changed it (a code used, a set issued, "try again"). */
    public static void forget(KeycloakSession session, RealmModel realm, UserModel user) {
        session.removeAttribute(STATUS_ATTRIBUTE + realm.getId() + ":" + user.getId());
    }
}
