package io.github.backupcodes.keycloak.bridge;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The bridge instances one Keycloak server may call, in the operator's order of preference, and which of them
 * recently refused a connection.
 *
 * <p>Why failover in the provider rather than a load balancer in front: the provider is the only party that knows
 * whether a request can have reached a bridge. A verify that was sent and then timed out may have spent the code,
 * so it must not be sent again to another instance; a load balancer that retries on its own cannot tell a verify
 * from a status read. The provider re-sends only what cannot have arrived (the connection was refused or timed out)
 * and reads (GET), and it needs no extra process on the login path.
 *
 * <p>A URL whose connection failed is skipped for {@link #DEFAULT_SKIP_MILLIS} (the others are tried first), then
 * tried again; if every URL is skipped, they are still tried (in the order they come back), so an outage of all
 * instances fails closed through the call budget, never through "no URL left". The state is shared by every
 * request of the server ({@link #shared(String)}), so one refused connection spares the following requests the
 * connect attempt.
 */
public final class BridgeEndpoints {

    /** Connect limit per URL while another URL remains: a refused loopback/LAN connect takes well under 1 ms. */
    public static final int DEFAULT_CONNECT_MILLIS = 500;
    /** How long a URL whose connection failed is tried only after the others. */
    public static final long DEFAULT_SKIP_MILLIS = 15_000;

    private static final Map<String, BridgeEndpoints> SHARED = new ConcurrentHashMap<>();

    private final List<String> urls;
    private final long skipNanos;
    private final int connectMillis;
    private final LongSupplier nanoClock;
    private final Map<String, Long> retryAtNanos = new ConcurrentHashMap<>();

    private BridgeEndpoints(List<String> urls, long skipMillis, int connectMillis, LongSupplier nanoClock) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("no bridge URL configured");
        }
        this.urls = List.copyOf(urls);
        this.skipNanos = skipMillis * 1_000_000L;
        this.connectMillis = connectMillis;
        this.nanoClock = nanoClock;
    }

    /** The server-wide state for one configured value (one comma-separated list), created on first use. */
    public static BridgeEndpoints shared(String configured) {
        List<String> urls = parse(configured);
        return SHARED.computeIfAbsent(String.join(",", urls),
                key -> new BridgeEndpoints(urls, DEFAULT_SKIP_MILLIS, DEFAULT_CONNECT_MILLIS, System::nanoTime));
    }

    /** A private instance on a given monotonic clock (nanoseconds), so the skipping is tested without waiting. */
    public static BridgeEndpoints of(String configured, long skipMillis, int connectMillis, LongSupplier nanoClock) {
        return new BridgeEndpoints(parse(configured), skipMillis, connectMillis, nanoClock);
    }

    /**
     * The URLs of a comma-separated list: trimmed, trailing slashes dropped, empties and repeats left out.
     * A single URL (the original form of the option) is a list of one.
     */
    public static List<String> parse(String configured) {
        LinkedHashSet<String> urls = new LinkedHashSet<>();
        if (configured != null) {
            for (String part : configured.split(",")) {
                String url = stripTrailingSlashes(part.trim());
                if (!url.isEmpty()) {
                    urls.add(url);
                }
            }
        }
        return new ArrayList<>(urls);
    }

    public List<String> urls() {
        return urls;
    }

    public int connectMillis() {
        return connectMillis;
    }

    /** The order to try now: URLs not being skipped as configured, then skipped ones, soonest retry first. */
    public List<String> order() {
        long now = nanoClock.getAsLong();
        List<String> live = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (String url : urls) {
            Long retryAt = retryAtNanos.get(url);
            if (retryAt == null || retryAt - now <= 0) {
                live.add(url);
            } else {
                skipped.add(url);
            }
        }
        skipped.sort(Comparator.comparingLong(url -> retryAtNanos.getOrDefault(url, now) - now));
        live.addAll(skipped);
        return live;
    }

    /** Nothing could connect to {@code url}: try it only after the others for the skip period. */
    public void markDown(String url) {
        retryAtNanos.put(url, nanoClock.getAsLong() + skipNanos);
    }

    /** {@code url} answered (any HTTP status): back to its configured place. */
    public void markUp(String url) {
        retryAtNanos.remove(url);
    }

    public boolean skipped(String url) {
        Long retryAt = retryAtNanos.get(url);
        return retryAt != null && retryAt - nanoClock.getAsLong() > 0;
    }

    @Override
    public String toString() {
        return "BridgeEndpoints" + urls;
    }

    private static String stripTrailingSlashes(String url) {
        String result = url;
        while (result.endsWith("/")) {
            result = result.substring(0, result.length() - 1);
        }
        return result;
    }
}
