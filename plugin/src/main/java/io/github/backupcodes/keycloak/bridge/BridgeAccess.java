package io.github.backupcodes.keycloak.bridge;

import io.github.backupcodes.keycloak.contract.Contract;
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

    private final KeycloakSession session;
    private final BridgeSettings settings;
    private final RealmModel realm;

    private BridgeAccess(KeycloakSession session, BridgeSettings settings, RealmModel realm) {
        this.session = session;
        this.settings = settings;
        this.realm = realm;
    }

    /** The bridge as this request sees it for one realm: its answers and its time budget live in the session. */
    public static BridgeAccess of(KeycloakSession session, BridgeSettings settings, RealmModel realm) {
        return new BridgeAccess(session, settings, realm);
    }

    public BridgeClient client() throws BridgeUnavailableException {
        if (!settings.configured()) {
            throw new BridgeUnavailableException("bridge URL or API key is not configured");
        }
        String bearer = ApiKeyResolver.resolve(session, settings.apiKey());
        HttpClientProvider provider = session.getProvider(HttpClientProvider.class);
        return new BridgeClient(provider.getHttpClient(), settings.bridgeUrl(), bearer, budget());
    }

    /** This request's budget for the realm, started by its first bridge call. */
    CallBudget budget() {
        String key = BUDGET_ATTRIBUTE + realm.getId();
        if (session.getAttribute(key) instanceof CallBudget budget) {
            return budget;
        }
        RequiredActionConfigModel config = realm.getRequiredActionConfigByAlias(Contract.SETUP_ACTION_ID);
        int millis = RealmBudget.millis(config == null ? null : config.getConfig(), settings.budgetMillis());
        CallBudget budget = CallBudget.startingNow(millis);
        session.setAttribute(key, budget);
        return budget;
    }

    /** Status for this user, asked at most once per request (an unreachable bridge is remembered too). */
    public BridgeStatus status(UserModel user) throws BridgeUnavailableException {
        String key = STATUS_ATTRIBUTE + realm.getId() + ":" + user.getId();
        Object cached = session.getAttribute(key);
        if (cached instanceof BridgeStatus status) {
            return status;
        }
        if (cached == UNAVAILABLE) {
            throw new BridgeUnavailableException("bridge unavailable earlier in this request");
        }
        try {
            BridgeStatus status = client().status(realm.getName(), user.getId());
            session.setAttribute(key, status);
            return status;
        } catch (BridgeUnavailableException e) {
            session.setAttribute(key, UNAVAILABLE);
            throw e;
        }
    }

    /** Check a typed code with the bridge for this request's client; the cached status is dropped either way. */
    public VerifyResult verify(UserModel user, String code, VerifyPurpose purpose, boolean keycloakLocked)
            throws BridgeUnavailableException {
        try {
            ClientConnection connection = session.getContext().getConnection();
            return client().verify(realm.getName(), user.getId(), code, connection.getRemoteAddr(),
                    session.getContext().getRequestHeaders().getHeaderString("User-Agent"), purpose, keycloakLocked);
        } finally {
            forget(user);
        }
    }

    /** Forget the cached answer after something changed it (a code used, a set issued, "try again"). */
    public void forget(UserModel user) {
        session.removeAttribute(STATUS_ATTRIBUTE + realm.getId() + ":" + user.getId());
    }
}
