package io.github.backupcodes.keycloak.bridge;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
        return new BridgeClient(http, base(), "bcb_test_key", new Timeouts(2000, 2000));
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
        answerJson("/v1/realms/acme/users/u-1/codes", 200, "{\"enrolled\": true, \"remaining\": 5, \"total\": 10}");
        BridgeStatus status = client().status("acme", "u-1");
        assertEquals(5, status.remaining());
        assertTrue(seen.get(0).startsWith("GET /v1/realms/acme/users/u-1/codes Bearer bcb_test_key"));
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
                "{\"valid\": true, \"remaining\": 3, \"low\": true, \"enroll_required\": false, \"reason\": \"ok\"}");
        VerifyResult result = client().verify("acme", "u-1", "ABCD-EFGH", "192.0.2.7", "UA", "login");
        assertTrue(result.valid());
        String request = seen.get(0);
        assertTrue(request.startsWith("POST /v1/realms/acme/users/u-1/codes/verify"));
        assertTrue(request.contains("\"client_ip\":\"192.0.2.7\""));
    }

    @Test
    void rateLimitedVerifyIsAFailedAttemptNotAnOutage() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes/verify", 429, "{\"error\": \"rate_limited\", \"message\": \"x\"}");
        VerifyResult result = client().verify("acme", "u-1", "X", "ip", null, "login");
        assertFalse(result.valid());
        assertEquals("rate_limited", result.reason());
    }

    @Test
    void unprocessableVerifyIsAMalformedCode() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes/verify", 422, "{\"error\": \"malformed\", \"message\": \"x\"}");
        assertEquals("malformed", client().verify("acme", "u-1", "X", "ip", null, "login").reason());
    }

    @Test
    void serverErrorIsUnavailable() {
        answerJson("/v1/realms/acme/users/u-1/codes", 503, "{\"error\": \"unavailable\", \"message\": \"db down\"}");
        assertThrows(BridgeUnavailableException.class, () -> client().status("acme", "u-1"));
    }

    @Test
    void rejectedKeyIsUnavailable() {
        answerJson("/v1/realms/acme/users/u-1/codes", 401, "{\"error\": \"unauthorized\", \"message\": \"x\"}");
        assertThrows(BridgeUnavailableException.class, () -> client().status("acme", "u-1"));
    }

    @Test
    void refusedConnectionIsUnavailable() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        BridgeClient client = new BridgeClient(http, "http://127.0.0.1:" + closedPort, "k", new Timeouts(500, 500));
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
        BridgeClient client = new BridgeClient(http, base(), "k", new Timeouts(500, 300));
        assertThrows(BridgeUnavailableException.class, () -> client.status("acme", "u-1"));
    }

    @Test
    void issueReturnsTheCodes() throws Exception {
        answerJson("/v1/realms/acme/users/u-1/codes", 201,
                "{\"codes\": [\"AAAA-BBBB-CCCC-DDDD\"], \"created_at\": \"2026-01-01T00:00:00Z\", \"set_id\": \"7\", \"count\": 1}");
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
}
