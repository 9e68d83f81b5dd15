package io.github.backupcodes.keycloak.bridge;

import com.sun.net.httpserver.HttpServer;
import org.apache.http.conn.ConnectTimeoutException;
import org.apache.http.conn.HttpHostConnectException;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.NoHttpResponseException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several bridge URLs: what moves to the next instance and what must not, against real loopback sockets. */
class BridgeFailoverTest {

    private static final String STATUS = "{\"enrolled\": true, \"remaining\": 5, \"total\": 10}";
    private static final String VALID = "{\"valid\": true, \"remaining\": 4, \"low\": false, \"reason\": \"ok\"}";

    private final AtomicLong now = new AtomicLong();
    private final List<String> healthySeen = new CopyOnWriteArrayList<>();
    private HttpServer healthy;
    private CloseableHttpClient http;

    @BeforeEach
    void start() throws IOException {
        healthy = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        healthy.createContext("/v1/realms/acme/users/u-1/codes", exchange -> {
            exchange.getRequestBody().readAllBytes();
            healthySeen.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            String body = exchange.getRequestURI().getPath().endsWith("/verify") ? VALID : STATUS;
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        healthy.start();
        http = HttpClients.createDefault();
    }

    @AfterEach
    void stop() throws IOException {
        healthy.stop(0);
        http.close();
    }

    private String healthyUrl() {
        return "http://127.0.0.1:" + healthy.getAddress().getPort();
    }

    private static String refusingUrl() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }
    }

    private BridgeClient client(BridgeEndpoints endpoints) {
        return new BridgeClient(http, endpoints, "k", CallBudget.startingNow(3000));
    }

    private BridgeEndpoints endpoints(String... urls) {
        return BridgeEndpoints.of(String.join(",", urls), 15_000, 500, now::get);
    }

    @Test
    void aRefusedConnectionMovesTheCallToTheNextUrl() throws Exception {
        BridgeEndpoints endpoints = endpoints(refusingUrl(), healthyUrl());
        assertEquals(5, client(endpoints).status("acme", "u-1").remaining());
        assertEquals(List.of("GET /v1/realms/acme/users/u-1/codes"), healthySeen);
    }

    @Test
    void aVerifyThatCouldNotConnectIsSentToTheNextUrlOnce() throws Exception {
        BridgeEndpoints endpoints = endpoints(refusingUrl(), healthyUrl());
        assertTrue(client(endpoints).verify("acme", "u-1", "AAAA", "ip", null, VerifyPurpose.LOGIN, false).valid());
        assertEquals(List.of("POST /v1/realms/acme/users/u-1/codes/verify"), healthySeen);
    }

    @Test
    void aUrlThatRefusedIsSkippedByTheFollowingRequests() throws Exception {
        String refusing = refusingUrl();
        BridgeEndpoints endpoints = endpoints(refusing, healthyUrl());
        client(endpoints).status("acme", "u-1");
        assertEquals(healthyUrl(), endpoints.order().get(0));
        assertTrue(endpoints.skipped(refusing));
    }

    @Test
    void aVerifyThatWasSentIsNeverSentAgainElsewhere() throws Exception {
        try (HangUpBridge first = new HangUpBridge()) {
            BridgeClient client = client(endpoints(first.url(), healthyUrl()));
            assertThrows(BridgeUnavailableException.class,
                    () -> client.verify("acme", "u-1", "AAAA", "ip", null, VerifyPurpose.LOGIN, false));
            assertEquals(1, first.requests.get(), "the verify reached the first instance once");
            assertEquals(List.of(), healthySeen, "and was not re-sent to the second");
        }
    }

    @Test
    void aReadThatWasSentAndFailedMovesToTheNextUrl() throws Exception {
        try (HangUpBridge first = new HangUpBridge()) {
            BridgeEndpoints endpoints = endpoints(first.url(), healthyUrl());
            assertEquals(5, client(endpoints).status("acme", "u-1").remaining());
            assertFalse(endpoints.skipped(first.url()), "it accepted connections: not down, only this answer failed");
        }
    }

    @Test
    void withOneUrlARefusedCallStillFailsClosed() throws Exception {
        BridgeClient client = client(endpoints(refusingUrl()));
        assertThrows(BridgeUnavailableException.class, () -> client.status("acme", "u-1"));
    }

    @Test
    void onlyFailuresBeforeSendingCountAsNotSent() {
        assertTrue(BridgeClient.notSent(new HttpHostConnectException(new ConnectException("refused"), null)));
        assertTrue(BridgeClient.notSent(new ConnectTimeoutException("connect timed out")));
        assertFalse(BridgeClient.notSent(new NoHttpResponseException("no answer")));
        assertFalse(BridgeClient.notSent(new SocketTimeoutException("Read timed out")));
        assertFalse(BridgeClient.notSent(new SocketException("Connection reset")));
    }

    @Test
    void anotherUrlLeftShortensTheConnectLimitOnly() {
        var limits = BridgeClient.limits(2500, 500, true);
        assertEquals(500, limits.getConnectTimeout());
        assertEquals(2500, limits.getSocketTimeout());
        assertEquals(2500, limits.getConnectionRequestTimeout());
    }

    /** Reads each request, then closes the connection without a word: the request arrived, no answer came. */
    private static final class HangUpBridge implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger requests = new AtomicInteger();

        HangUpBridge() throws IOException {
            Thread thread = new Thread(this::serve, "hang-up-bridge");
            thread.setDaemon(true);
            thread.start();
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        private void serve() {
            try {
                while (true) {
                    try (Socket client = socket.accept()) {
                        if (client.getInputStream().read(new byte[8192]) > 0) {
                            requests.incrementAndGet();
                        }
                    }
                }
            } catch (IOException closed) {
                // the test is over
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
