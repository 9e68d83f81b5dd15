package io.github.backupcodes.keycloak.bridge;

import org.apache.http.HttpEntity;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpDelete;
import org.apache.http.client.methods.HttpEntityEnclosingRequestBase;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.client.methods.HttpPatch;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.client.methods.HttpPut;
import org.apache.http.client.methods.HttpRequestBase;
import org.apache.http.conn.ConnectTimeoutException;
import org.apache.http.conn.ConnectionPoolTimeoutException;
import org.apache.http.entity.ContentType;
import org.apache.http.entity.StringEntity;
import org.apache.http.impl.client.CloseableHttpClient;
import org.jboss.logging.Logger;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Calls the bridge's {@code /v1} API. Every failure to get a definitive answer becomes a
 * {@link BridgeUnavailableException}; nothing secret (code, key, response body) is logged.
 *
 * <p>The HTTP client is Keycloak's shared one (proxy, truststore, pool) and is never closed here; only the
 * per-request limits are ours. Every call gets what is left of the {@link CallBudget} as its pool, connect and read
 * timeout, and is aborted at the budget's deadline: a socket timeout alone restarts with every byte read, so a bridge
 * that answers a byte at a time, or the HTTP client's own retries, could otherwise hold a Keycloak worker thread far
 * beyond it.
 *
 * <p>With several bridge URLs, a call goes to the first one that accepts a connection, each connect limited to
 * {@link BridgeEndpoints#connectMillis()} while another URL remains. A call moves on to the next URL only when it
 * cannot have reached the bridge (the connection was refused or timed out), or when it is a read (GET). A verify
 * or issue that was sent and then failed is never sent again: the first instance may have spent the code.
 */
public class BridgeClient {

    private static final Logger LOG = Logger.getLogger(BridgeClient.class);
    private static final int MAX_JSON_BYTES = 1 << 20;
    private static final int MAX_SHEET_BYTES = 16 << 20;
    /** One daemon thread that aborts calls at their deadline, shared by all clients (cancelled tasks are dropped). */
    private static final ScheduledThreadPoolExecutor DEADLINES = deadlineTimer();

    private final CloseableHttpClient http;
    private final BridgeEndpoints endpoints;
    private final String bearer;
    private final CallBudget budget;

    /**
     * @param baseUrls one bridge URL, or several comma-separated (tried in order, see {@link BridgeEndpoints})
     * @param budget   shared by every call of this client (and, through {@code BridgeAccess}, of the whole request)
     */
    public BridgeClient(CloseableHttpClient http, String baseUrls, String bearer, CallBudget budget) {
        this(http, BridgeEndpoints.shared(baseUrls), bearer, budget);
    }

    public BridgeClient(CloseableHttpClient http, BridgeEndpoints endpoints, String bearer, CallBudget budget) {
        this.http = http;
        this.endpoints = endpoints;
        this.bearer = bearer;
        this.budget = budget;
    }

    public BridgeStatus status(String realm, String userId) throws BridgeUnavailableException {
        Reply reply = execute(Call.read(codesPath(realm, userId)), MAX_JSON_BYTES, "status");
        requireOk(reply, "status");
        return BridgeJson.parseStatus(reply.text());
    }

    public VerifyResult verify(String realm, String userId, String code, String clientIp, String userAgent,
                               String purpose) throws BridgeUnavailableException {
        return verify(realm, userId, code, clientIp, userAgent, purpose, false);
    }

    /**
     * @param keycloakLocked tell the bridge Keycloak's brute-force detection had the user temporarily locked (only
     *                       meaningful with purpose recovery; the provider clears that lock itself after a success)
     */
    public VerifyResult verify(String realm, String userId, String code, String clientIp, String userAgent,
                               VerifyPurpose purpose, boolean keycloakLocked) throws BridgeUnavailableException {
        return verify(realm, userId, code, clientIp, userAgent, purpose.wire(), keycloakLocked);
    }

    private VerifyResult verify(String realm, String userId, String code, String clientIp, String userAgent,
                                String purpose, boolean keycloakLocked) throws BridgeUnavailableException {
        Call call = Call.post(codesPath(realm, userId) + "/verify",
                BridgeJson.verifyBody(code, clientIp, userAgent, purpose, keycloakLocked));
        Reply reply = execute(call, MAX_JSON_BYTES, "verify");
        if (reply.status() == 429) {
            return VerifyResult.rejectedLocally("rate_limited");
        }
        if (reply.status() == 400 || reply.status() == 413 || reply.status() == 422) {
            // The bridge refuses input it cannot even normalise; to the user it is just a wrong code.
            return VerifyResult.rejectedLocally("malformed");
        }
        requireOk(reply, "verify");
        return BridgeJson.parseVerify(reply.text());
    }

    public IssuedCodes issue(String realm, String userId, String actor, String clientIp, String userAgent)
            throws BridgeUnavailableException {
        Call call = Call.post(codesPath(realm, userId), BridgeJson.issueBody(actor, clientIp, userAgent));
        Reply reply = execute(call, MAX_JSON_BYTES, "issue");
        requireOk(reply, "issue");
        return BridgeJson.parseIssued(reply.text());
    }

    public void revoke(String realm, String userId) throws BridgeUnavailableException {
        Reply reply = execute(new Call("DELETE", codesPath(realm, userId), null), MAX_JSON_BYTES, "revoke");
        if (reply.status() != 404) {
            requireOk(reply, "revoke");
        }
    }

    /** The realm's policy as the bridge stores it (JSON text of the bridge's {@code Policy} schema). */
    public String policy(String realm) throws BridgeUnavailableException {
        Reply reply = execute(Call.read(policyPath(realm)), MAX_JSON_BYTES, "policy");
        requireOk(reply, "policy");
        return reply.text();
    }

    /**
     * Writes policy fields through to the bridge (its {@code PolicyUpdate} schema) and returns the policy it now
     * stores. A 400/422 is the bridge refusing the values: {@link BridgeRefusal} carries its message, which names
     * the field and the allowed range; nothing was stored.
     */
    public String updatePolicy(String realm, String json) throws BridgeUnavailableException, BridgeRefusal {
        Reply reply = execute(new Call("PUT", policyPath(realm), json), MAX_JSON_BYTES, "policy update");
        if (reply.status() == 400 || reply.status() == 422) {
            throw new BridgeRefusal(BridgeJson.errorCode(reply.text()), BridgeJson.errorMessage(reply.text()));
        }
        requireOk(reply, "policy update");
        return reply.text();
    }

    /**
     * The helpdesk reset ({@code POST .../reset}): revoke the set, require a new one, audit who did it and mail the
     * user. The bridge's answer is the status after it.
     */
    public BridgeStatus reset(String realm, String userId, String actor, String reason, String identityCheck)
            throws BridgeUnavailableException {
        Call call = Call.post(userPath(realm, userId) + "/reset", BridgeJson.resetBody(actor, reason, identityCheck));
        Reply reply = execute(call, MAX_JSON_BYTES, "reset");
        requireOk(reply, "reset");
        return BridgeJson.parseStatus(reply.text());
    }

    /**
     * Lift the {@code source} lock for a named admin when it is temporary ({@code POST .../locks/{source}/unlock}).
     * False when there was no active lock, or when it is permanent (the bridge keeps it).
     */
    public boolean unlockTemporary(String realm, String userId, String source, String actor, String reason)
            throws BridgeUnavailableException {
        Call call = Call.post(userPath(realm, userId) + "/locks/" + segment(source) + "/unlock",
                BridgeJson.unlockBody(actor, reason));
        Reply reply = execute(call, MAX_JSON_BYTES, "unlock");
        requireOk(reply, "unlock");
        return BridgeJson.parseCleared(reply.text());
    }

    /**
     * Lift every temporary codes lock of the realm for a named admin
     * ({@code POST /v1/realms/{realm}/locks/codes/unlock}, Keycloak's "unlock all users"); permanent codes locks and
     * other sources' locks stay. Returns how many users' locks were lifted.
     */
    public int unlockAllTemporaryCodes(String realm, String actor, String reason) throws BridgeUnavailableException {
        Call call = Call.post("/v1/realms/" + segment(realm) + "/locks/codes/unlock",
                BridgeJson.unlockBody(actor, reason));
        Reply reply = execute(call, MAX_JSON_BYTES, "unlock all");
        requireOk(reply, "unlock all");
        return BridgeJson.parseClearedCount(reply.text());
    }

    public byte[] sheet(SheetFormat format, SheetRequest sheet) throws BridgeUnavailableException {
        Call call = Call.post("/v1/sheets/" + format.path(), BridgeJson.sheetBody(sheet));
        Reply reply = execute(call, MAX_SHEET_BYTES, "sheet");
        requireOk(reply, "sheet");
        return reply.body();
    }

    /** Empty when the bridge has device recognition turned off (409 {@code device_recognition_disabled}). */
    public Optional<DeviceRegistration> registerDevice(String realm, String userId, String clientIp, String userAgent)
            throws BridgeUnavailableException {
        Call call = Call.post(devicesPath(realm, userId), BridgeJson.deviceBody(clientIp, userAgent));
        Reply reply = execute(call, MAX_JSON_BYTES, "device register");
        if (recognitionDisabled(reply)) {
            return Optional.empty();
        }
        requireOk(reply, "device register");
        return Optional.of(BridgeJson.parseDeviceRegistration(reply.text()));
    }

    public DeviceCheck checkDevice(String realm, String userId, String token, String clientIp, String userAgent)
            throws BridgeUnavailableException {
        Call call = Call.post(devicesPath(realm, userId) + "/check",
                BridgeJson.deviceCheckBody(token, clientIp, userAgent));
        Reply reply = execute(call, MAX_JSON_BYTES, "device check");
        if (recognitionDisabled(reply)) {
            return DeviceCheck.DISABLED;
        }
        requireOk(reply, "device check");
        return BridgeJson.parseDeviceCheck(reply.text());
    }

    public List<Device> listDevices(String realm, String userId) throws BridgeUnavailableException {
        Reply reply = execute(Call.read(devicesPath(realm, userId)), MAX_JSON_BYTES, "device list");
        if (recognitionDisabled(reply)) {
            return List.of();
        }
        requireOk(reply, "device list");
        return BridgeJson.parseDevices(reply.text());
    }

    /** How many devices were forgotten. {@code reason} is e.g. {@code password_reset} or {@code user}. */
    public int forgetDevices(String realm, String userId, String actor, String reason) throws BridgeUnavailableException {
        Call call = Call.post(devicesPath(realm, userId) + "/forget", BridgeJson.forgetBody(actor, reason));
        Reply reply = execute(call, MAX_JSON_BYTES, "device forget");
        if (recognitionDisabled(reply)) {
            return 0;
        }
        requireOk(reply, "device forget");
        return BridgeJson.parseForgotten(reply.text());
    }

    public void patchContact(String realm, String userId, ContactPatch patch) throws BridgeUnavailableException {
        if (patch.isEmpty()) {
            return;
        }
        Call call = new Call("PATCH", userPath(realm, userId) + "/contact", BridgeJson.contactPatchBody(patch));
        Reply reply = execute(call, MAX_JSON_BYTES, "contact patch");
        requireOk(reply, "contact patch");
    }

    private static boolean recognitionDisabled(Reply reply) {
        return reply.status() == 409 && "device_recognition_disabled".equals(BridgeJson.errorCode(reply.text()));
    }

    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String userPath(String realm, String userId) {
        return "/v1/realms/" + segment(realm) + "/users/" + segment(userId);
    }

    private static String policyPath(String realm) {
        return "/v1/realms/" + segment(realm) + "/policy";
    }

    private static String codesPath(String realm, String userId) {
        return userPath(realm, userId) + "/codes";
    }

    private static String devicesPath(String realm, String userId) {
        return userPath(realm, userId) + "/devices";
    }

    private static StringEntity json(String body) {
        return new StringEntity(body, ContentType.APPLICATION_JSON);
    }

    /**
     * The call on the first URL that takes it, within the budget. Moves on to the next URL only when this one
     * cannot have received the request, or the call is a read; otherwise the first failure is final.
     */
    private Reply execute(Call call, int maxBytes, String operation) throws BridgeUnavailableException {
        List<String> order = endpoints.order();
        for (int i = 0; ; i++) {
            String base = order.get(i);
            boolean another = i + 1 < order.size();
            try {
                Reply reply = send(call, base, another, maxBytes, operation);
                endpoints.markUp(base);
                return reply;
            } catch (Attempt failed) {
                if (failed.notSent && failed.instanceDown) {
                    endpoints.markDown(base);
                }
                if (!another || budget.spent() || !(failed.notSent || call.retrySafe())) {
                    throw failed.unavailable;
                }
                LOG.warnf("backup-codes bridge %s call moves to the next bridge URL (%s)", operation, failed.why);
            }
        }
    }

    /** One attempt on one URL; {@link Attempt} says whether the request can have reached it. */
    private Reply send(Call call, String base, boolean another, int maxBytes, String operation)
            throws BridgeUnavailableException, Attempt {
        int remaining = budget.remainingMillis();
        if (remaining == 0) {
            LOG.warnf("backup-codes bridge %s call skipped: the %d ms budget for this request is spent",
                    operation, budget.totalMillis());
            throw new BridgeUnavailableException("bridge " + operation + " call skipped: time budget spent");
        }
        HttpRequestBase request = call.request(base);
        int connect = another ? Math.min(remaining, endpoints.connectMillis()) : remaining;
        request.setConfig(limits(remaining, connect, !call.retrySafe()));
        request.setHeader("Authorization", "Bearer " + bearer);
        request.setHeader("Accept", "application/json, application/pdf, text/plain");
        ScheduledFuture<?> abort = DEADLINES.schedule(request::abort, remaining, TimeUnit.MILLISECONDS);
        try (CloseableHttpResponse response = http.execute(request)) {
            int status = response.getStatusLine().getStatusCode();
            return new Reply(status, read(response.getEntity(), maxBytes));
        } catch (IOException | RuntimeException e) {
            // The exception text names host/port or a timeout, never the request body.
            String why = budget.spent() ? "no answer within the " + budget.totalMillis() + " ms budget"
                    : e.getClass().getSimpleName();
            LOG.warnf("backup-codes bridge %s call failed: %s", operation, why);
            throw new Attempt(why, notSent(e), !(e instanceof ConnectionPoolTimeoutException),
                    new BridgeUnavailableException("bridge " + operation + " call failed: " + why, e));
        } finally {
            abort.cancel(false);
            request.releaseConnection();
        }
    }

    /**
     * True when the request cannot have reached a bridge: no connection was made (refused, timed out, no route,
     * unknown host) or none was handed out by the pool. Anything later (a reset, a read timeout, no answer) may
     * come after the bridge received and acted on it.
     */
    static boolean notSent(Throwable e) {
        return e instanceof ConnectException
                || e instanceof ConnectTimeoutException
                || e instanceof NoRouteToHostException
                || e instanceof UnknownHostException;
    }

    /** Pool wait, connect and each read may each take at most what is left; the abort bounds them together. */
    static RequestConfig limits(int remainingMillis) {
        return limits(remainingMillis, remainingMillis, false);
    }

    /**
     * As {@link #limits(int)} with a shorter connect limit when another URL remains. For calls that are never
     * re-sent, a pooled connection is checked before use: a keep-alive connection to an instance that has died
     * since would otherwise take the request and fail it after sending, which counts as "may have arrived".
     */
    @SuppressWarnings("deprecation")
    static RequestConfig limits(int remainingMillis, int connectMillis, boolean checkPooledConnection) {
        return RequestConfig.custom()
                .setConnectionRequestTimeout(remainingMillis)
                .setConnectTimeout(connectMillis)
                .setSocketTimeout(remainingMillis)
                .setStaleConnectionCheckEnabled(checkPooledConnection)
                .build();
    }

    private static ScheduledThreadPoolExecutor deadlineTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "backup-codes-bridge-deadline");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    private static void requireOk(Reply reply, String operation) throws BridgeUnavailableException {
        int status = reply.status();
        if (status >= 200 && status < 300) {
            return;
        }
        String error = BridgeJson.errorCode(reply.text());
        if (status == 401 || status == 403) {
            LOG.errorf("backup-codes bridge rejected the API key on %s (HTTP %d); check the server-level api-key", operation, status);
        } else {
            LOG.warnf("backup-codes bridge %s answered HTTP %d %s", operation, status, error);
        }
        throw new BridgeUnavailableException("bridge " + operation + " answered HTTP " + status + (error.isEmpty() ? "" : " " + error));
    }

    private static byte[] read(HttpEntity entity, int maxBytes) throws IOException {
        if (entity == null) {
            return new byte[0];
        }
        try (InputStream in = entity.getContent(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            byte[] buffer = new byte[8192];
            int total = 0;
            int n;
            while ((n = in.read(buffer)) != -1) {
                total += n;
                if (total > maxBytes) {
                    throw new IOException("bridge response too large");
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        }
    }

    /** What to send, relative to a bridge URL; only reads may be sent to a second instance after any failure. */
    private record Call(String method, String path, String body) {
        static Call read(String path) {
            return new Call("GET", path, null);
        }

        static Call post(String path, String body) {
            return new Call("POST", path, body);
        }

        boolean retrySafe() {
            return "GET".equals(method);
        }

        HttpRequestBase request(String base) {
            String url = base + path;
            HttpRequestBase request = switch (method) {
                case "GET" -> new HttpGet(url);
                case "DELETE" -> new HttpDelete(url);
                case "PATCH" -> new HttpPatch(url);
                case "PUT" -> new HttpPut(url);
                default -> new HttpPost(url);
            };
            if (body != null && request instanceof HttpEntityEnclosingRequestBase withBody) {
                withBody.setEntity(json(body));
            }
            return request;
        }
    }

    /** A failed attempt on one URL, and whether the request can have reached that bridge. */
    private static final class Attempt extends Exception {
        private final String why;
        private final boolean notSent;
        private final boolean instanceDown;
        private final BridgeUnavailableException unavailable;

        Attempt(String why, boolean notSent, boolean instanceDown, BridgeUnavailableException cause) {
            super(why, null, false, false);
            this.why = why;
            this.notSent = notSent;
            this.instanceDown = instanceDown;
            this.unavailable = cause;
        }
    }

    private record Reply(int status, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
