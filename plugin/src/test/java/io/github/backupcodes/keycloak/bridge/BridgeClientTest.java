package io.github.backupcodes.keycloak.bridge;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Talks to a real HTTP server on loopback that plays the bridge. */
class BridgeClientTest {

    private HttpServer server;
    private CloseableHttpClient http;
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.start();
        http = HttpClients.createDefault();
    }

    @AfterEach
    void stop() throws IOException {
        release.countDown();
        server.stop(0);
        http.close();
    }

    private String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private BridgeClient client() {
        return new BridgeClient(http, base(), "bcb_test_key", CallBudget.startingNow(2000));
    }

    private void answer(String path, int status, String contentType, byte[] body) {
        server.createContext(path, exchange -> {
            record(exchange);
            exchange.getResponseHeaders().add("Content-Type", contentType);
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
    }

    private void answerJson(String path, int status, String json) {
        answer(path, status, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    private void record(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        seen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath() + " "
                + exchange.getRequestHeaders().getFirst("Authorization") + " " + body);
    }

    @Test
    void statusSendsTheBearerKeyAndParsesTheAnswer() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes", 200, Fixtures.json("Status/enrolled"));
        BridgeStatus status = client().status("acme", "u-1");
        assertEquals(5, status.remaining());
        assertTrue(seen.get(0).startsWith("GET /v1/realms/acme/users/u-1/codes Bearer bcb_test_key"));
    }

    @Test
    void resetPostsTheAdminAndReturnsTheStatusAfterIt() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/reset", 200, Fixtures.json("Status/unknown-user"));
        BridgeStatus after = client().reset("acme", "u-1", "keycloak-admin:master/hd", "deleted", "runbook");
        assertFalse(after.enrolled());
        assertTrue(seen.get(0).startsWith("POST /v1/realms/acme/users/u-1/reset "), seen.get(0));
        assertTrue(seen.get(0).contains("\"actor\":\"keycloak-admin:master/hd\""), seen.get(0));
    }

    @Test
    void unlockSaysWhetherATemporaryLockWasLifted() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/locks/codes/unlock", 200, Fixtures.json("Unlocked/cleared"));
        assertTrue(client().unlockTemporary("acme", "u-1", "codes", "keycloak-admin:master/hd", "unlocked"));
    }

    @Test
    void unlockOfAPermanentLockClearsNothing() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/locks/codes/unlock", 200, Fixtures.json("Unlocked/permanent-stays"));
        assertFalse(client().unlockTemporary("acme", "u-1", "codes", "keycloak-admin:master/hd", "unlocked"));
    }

    @Test
    void unlockAllPostsTheAdminForTheRealmAndCountsTheLiftedLocks() throws Exception {
        answerJson("/v1/realms/acme/locks/codes/unlock", 200, Fixtures.json("UnlockedAll/two-lifted"));
        assertEquals(2, client().unlockAllTemporaryCodes("acme", "keycloak-admin:master/hd", "all unlocked"));
        assertTrue(seen.get(0).startsWith("POST /v1/realms/acme/locks/codes/unlock "), seen.get(0));
        assertTrue(seen.get(0).contains("\"actor\":\"keycloak-admin:master/hd\""), seen.get(0));
    }

    @Test
    void unlockAllWithoutACountIsNotTakenForZero() {
        answerJson("/v1/realms/acme/locks/codes/unlock", 200, "{}");
        assertThrows(BridgeUnavailableException.class,
                () -> client().unlockAllTemporaryCodes("acme", "keycloak-admin:master/hd", "all unlocked"));
    }

    @Test
    void pathSegmentsAreEncoded() throws Exception {
        answerJson("/v1/realms/", 200, "{\"enrolled\": false}");
        client().status("my realm", "a/b");
        assertTrue(seen.get(0).startsWith("GET /v1/realms/my%20realm/users/a%2Fb/codes"), seen.get(0));
    }

    @Test
    void verifyPostsCodeIpAndPurpose() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes/verify", 200,
                Fixtures.json("VerifyResult/valid-low"));
        VerifyResult result = client().verify("acme", "u-1", "ABCD-EFGH", "192.0.2.7", "UA", "login");
        assertTrue(result.valid());
        String request = seen.get(0);
        assertTrue(request.startsWith("POST /v1/realms/acme/users/u-1/codes/verify"));
        assertTrue(request.contains("\"client_ip\":\"192.0.2.7\""));
    }

    @Test
    void rateLimitedVerifyIsAFailedAttemptNotAnOutage() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes/verify", 429, Fixtures.json("Error/rate-limited"));
        VerifyResult result = client().verify("acme", "u-1", "X", "ip", null, "login");
        assertFalse(result.valid());
        assertEquals("rate_limited", result.reason());
    }

    @Test
    void unprocessableVerifyIsAMalformedCode() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes/verify", 422, Fixtures.json("Error/malformed"));
        assertEquals("malformed", client().verify("acme", "u-1", "X", "ip", null, "login").reason());
    }

    @Test
    void serverErrorIsUnavailable() {
        answerJson("/v1/realms/acme/users/u-1/codes", 503, Fixtures.json("Error/unavailable"));
        assertThrows(BridgeUnavailableException.class, () -> client().status("acme", "u-1"));
    }

    @Test
    void rejectedKeyIsUnavailable() {
        answerJson("/v1/realms/acme/users/u-1/codes", 401, Fixtures.json("Error/unauthorized"));
        assertThrows(BridgeUnavailableException.class, () -> client().status("acme", "u-1"));
    }

    @Test
    void refusedConnectionIsUnavailable() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        BridgeClient client = new BridgeClient(http, "http://127.0.0.1:" + closedPort, "k", CallBudget.startingNow(500));
        assertThrows(BridgeUnavailableException.class, () -> client.status("acme", "u-1"));
    }

    @Test
    void bridgeThatNeverAnswersIsUnavailable() {
        server.createContext("/v1/realms/acme/users/u-1/codes", exchange -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        BridgeClient client = new BridgeClient(http, base(), "k", CallBudget.startingNow(300));
        assertThrows(BridgeUnavailableException.class, () -> client.status("acme", "u-1"));
    }

    /** Accepts connections and never answers, like a bridge whose processes are stopped (SIGSTOP). */
    private static final class SilentBridge implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> accepted = new CopyOnWriteArrayList<>();
        private final Thread acceptor = new Thread(this::acceptForever, "silent-bridge");

        SilentBridge() throws IOException {
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        private void acceptForever() {
            try {
                while (true) {
                    accepted.add(socket.accept());
                }
            } catch (IOException closed) {
                // the test is over
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    /** Answers 200 with a valid body, one byte every 100 ms: each read is quick, the whole answer takes seconds. */
    private static final class DrippingBridge implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

        DrippingBridge() throws IOException {
            Thread thread = new Thread(this::serveOne, "dripping-bridge");
            thread.setDaemon(true);
            thread.start();
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        private void serveOne() {
            byte[] body = "{\"enrolled\": true, \"remaining\": 8, \"total\": 10}".getBytes(StandardCharsets.UTF_8);
            try (Socket client = socket.accept()) {
                client.getInputStream().read(new byte[8192]);
                OutputStream out = client.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                for (byte b : body) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(100);
                }
            } catch (IOException | InterruptedException e) {
                // the client gave up, or the test is over
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void afterTheBudgetIsSpentFurtherCallsFailWithoutContactingTheBridge() throws Exception {
        try (SilentBridge bridge = new SilentBridge()) {
            BridgeClient client = new BridgeClient(http, bridge.url(), "k", CallBudget.startingNow(300));
            assertThrows(BridgeUnavailableException.class, () -> client.status("acme", "u-1"));

            BridgeUnavailableException second = assertThrows(BridgeUnavailableException.class,
                    () -> client.verify("acme", "u-1", "AAAA-BBBB", "ip", "ua", VerifyPurpose.LOGIN, false));
            assertTrue(second.getMessage().contains("time budget spent"), second.getMessage());
            // At most the first call's connection (its accept may still be on the way), never a second one.
            assertTrue(bridge.accepted.size() <= 1, "the second call connected again");
        }
    }

    @Test
    void aBridgeThatAnswersAByteAtATimeIsCutOffAtTheBudget() throws Exception {
        try (DrippingBridge bridge = new DrippingBridge()) {
            BridgeClient client = new BridgeClient(http, bridge.url(), "k", CallBudget.startingNow(500));
            assertThrows(BridgeUnavailableException.class, () -> client.status("acme", "u-1"));
        }
    }

    @Test
    void eachCallWaitsForThePoolTheConnectionAndEachReadAtMostWhatIsLeft() {
        var limits = BridgeClient.limits(1800);
        assertEquals(1800, limits.getConnectionRequestTimeout());
        assertEquals(1800, limits.getConnectTimeout());
        assertEquals(1800, limits.getSocketTimeout());
    }

    @Test
    void issueReturnsTheCodes() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes", 201,
                Fixtures.json("IssuedSet/one-code"));
        IssuedCodes issued = client().issue("acme", "u-1", "keycloak-self-service", "ip", "ua");
        assertEquals(List.of("AAAA-BBBB-CCCC-DDDD"), issued.codes());
        assertTrue(seen.get(0).contains("\"actor\":\"keycloak-self-service\""));
    }

    @Test
    void sheetBytesAreRelayedUntouched() throws Exception {
        byte[] pdf = {'%', 'P', 'D', 'F', '-', 1, 2, 3};
        answer("/v1/sheets/pdf", 200, "application/pdf", pdf);
        byte[] body = client().sheet(SheetFormat.PDF, new SheetRequest(List.of("A"), "alice", "ACME", null, "en"));
        assertArrayEquals(pdf, body);
    }

    @Test
    void revokeAcceptsNoContent() throws Exception {
        answer("/v1/realms/acme/users/u-1/codes", 204, "application/json", new byte[0]);
        client().revoke("acme", "u-1");
        assertTrue(seen.get(0).startsWith("DELETE "));
    }

    @Test
    void recoveryVerifySendsPurposeAndKeycloakLockAndReadsClearedLocks() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes/verify", 200, Fixtures.json("VerifyResult/recovery-cleared-locks"));
        VerifyResult result = client().verify("acme", "u-1", "ABCD", "192.0.2.7", null, VerifyPurpose.RECOVERY, true);
        assertEquals(List.of("directory", "keycloak"), result.clearedLocks());
        assertTrue(seen.get(0).contains("\"purpose\":\"recovery\""), seen.get(0));
        assertTrue(seen.get(0).contains("\"keycloak_locked\":true"), seen.get(0));
    }

    @Test
    void loginVerifyDoesNotClaimAKeycloakLock() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes/verify", 200, Fixtures.json("VerifyResult/invalid"));
        client().verify("acme", "u-1", "ABCD", "ip", null, VerifyPurpose.LOGIN, false);
        assertFalse(seen.get(0).contains("keycloak_locked"), seen.get(0));
    }

    @Test
    void registerDeviceReturnsTokenAndMaxAge() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/devices", 201, Fixtures.json("RegisteredDevice/chrome"));
        DeviceRegistration device = client().registerDevice("acme", "u-1", "192.0.2.7", "UA").orElseThrow();
        assertEquals("0123456789abcdef0123456789abcdef.1700000000.c2lnbmF0dXJl", device.token());
        assertEquals(7776000, device.maxAgeSeconds());
        assertTrue(seen.get(0).startsWith("POST /v1/realms/acme/users/u-1/devices "), seen.get(0));
        assertFalse(device.toString().contains("c2lnbmF0dXJl"));
    }

    @Test
    void registerDeviceWhenRecognitionIsOffGivesNothing() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/devices", 409,
                Fixtures.json("Error/device-recognition-disabled"));
        assertTrue(client().registerDevice("acme", "u-1", "ip", "ua").isEmpty());
    }

    @Test
    void checkDevicePostsTheTokenInTheBody() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/devices/check", 200,
                Fixtures.json("DeviceCheck/recognised"));
        DeviceCheck check = client().checkDevice("acme", "u-1", "d1.1.sig", "ip", "ua");
        assertTrue(check.recognised());
        assertTrue(seen.get(0).contains("\"token\":\"d1.1.sig\""));
    }

    @Test
    void checkDeviceWhenRecognitionIsOffIsUnrecognised() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/devices/check", 409,
                Fixtures.json("Error/device-recognition-disabled"));
        assertFalse(client().checkDevice("acme", "u-1", "t", "ip", "ua").recognised());
    }

    @Test
    void otherConflictOnCheckIsUnavailable() {
        answerJson("/v1/realms/acme/users/u-1/devices/check", 409, Fixtures.json("Error/conflict"));
        assertThrows(BridgeUnavailableException.class, () -> client().checkDevice("acme", "u-1", "t", "ip", "ua"));
    }

    @Test
    void listDevicesParsesEveryDevice() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/devices", 200, Fixtures.json("Devices/one"));
        List<Device> devices = client().listDevices("acme", "u-1");
        assertEquals(List.of(new Device("d1", "Firefox on Windows", "2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z",
                "192.0.2.7")), devices);
    }

    @Test
    void forgetDevicesSendsTheReason() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/devices/forget", 200, Fixtures.json("DevicesForgotten/two"));
        assertEquals(2, client().forgetDevices("acme", "u-1", "keycloak", "password_reset"));
        assertTrue(seen.get(0).contains("\"reason\":\"password_reset\""), seen.get(0));
    }

    @Test
    void patchContactSendsOnlyTheGivenFields() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/contact", 200, Fixtures.json("Contact/email-only"));
        client().patchContact("acme", "u-1", new ContactPatch().email("a@example.org"));
        assertEquals("PATCH /v1/realms/acme/users/u-1/contact Bearer bcb_test_key {\"email\":\"a@example.org\"}", seen.get(0));
    }

    @Test
    void emptyContactPatchIsNotSent() throws Exception {
        client().patchContact("acme", "u-1", new ContactPatch());
        assertTrue(seen.isEmpty());
    }
}
