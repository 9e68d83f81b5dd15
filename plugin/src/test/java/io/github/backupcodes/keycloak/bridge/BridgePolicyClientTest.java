package io.github.backupcodes.keycloak.bridge;

import com.sun.net.httpserver.HttpServer;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The policy calls of the admin tab against a loopback server playing the bridge. */
class BridgePolicyClientTest {

    private static final String POLICY = "{\"code_count\":10,\"code_length\":16,\"max_failures\":7,"
            + "\"lockout_seconds\":60,\"lockout_max_seconds\":3600,\"low_threshold\":3,\"reset_mode\":\"helpdesk\"}";

    private HttpServer server;
    private CloseableHttpClient http;
    private final List<String> seen = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.start();
        http = HttpClients.createDefault();
    }

    @AfterEach
    void stop() throws IOException {
        server.stop(0);
        http.close();
    }

    private BridgeClient client() {
        return new BridgeClient(http, "http://127.0.0.1:" + server.getAddress().getPort(), "bcb_test_key",
                CallBudget.startingNow(2000));
    }

    private void answer(int status, String json) {
        server.createContext("/v1/realms/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath() + " " + body);
            byte[] out = json.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
    }

    @Test
    void policyIsReadFromTheRealmsPolicyPath() throws Exception {
        answer(200, POLICY);
        assertEquals(POLICY, client().policy("acme corp"));
        assertEquals(List.of("GET /v1/realms/acme%20corp/policy "), seen);
    }

    @Test
    void updateIsAPutOfTheFieldsAndReturnsWhatTheBridgeStores() throws Exception {
        answer(200, POLICY);
        assertEquals(POLICY, client().updatePolicy("acme", "{\"max_failures\":7}"));
        assertEquals(List.of("PUT /v1/realms/acme/policy {\"max_failures\":7}"), seen);
    }

    @Test
    void aRefusalCarriesTheBridgesMessage() {
        answer(422, "{\"error\":\"policy_invalid\",\"message\":\"max_failures must be between 1 and 100\"}");
        BridgeRefusal refusal = assertThrows(BridgeRefusal.class,
                () -> client().updatePolicy("acme", "{\"max_failures\":1000}"));
        assertEquals("max_failures must be between 1 and 100", refusal.getMessage());
        assertEquals("policy_invalid", refusal.error());
    }

    @Test
    void aServerErrorIsUnavailableNotARefusal() {
        answer(500, "{\"error\":\"internal\",\"message\":\"boom\"}");
        assertThrows(BridgeUnavailableException.class, () -> client().updatePolicy("acme", "{}"));
    }
}
