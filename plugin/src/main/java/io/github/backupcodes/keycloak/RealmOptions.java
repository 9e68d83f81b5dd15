package io.github.backupcodes.keycloak;

import io.github.backupcodes.keycloak.bridge.Timeouts;

import java.util.Map;

/**
 * Per-realm knobs from the execution (or required-action) config. None of them is secret: realm admins can read them.
 * Bad values fall back to the default instead of breaking logins.
 */
public record RealmOptions(int lowThreshold, Timeouts timeouts) {

    public static final String LOW_THRESHOLD = "low_threshold";
    public static final String CONNECT_TIMEOUT_MS = "connect_timeout_ms";
    public static final String READ_TIMEOUT_MS = "read_timeout_ms";

    public static final int DEFAULT_LOW_THRESHOLD = 3;
    static final int MAX_TIMEOUT_MS = 60_000;

    public static final RealmOptions DEFAULT = new RealmOptions(DEFAULT_LOW_THRESHOLD, Timeouts.DEFAULT);

    public static RealmOptions from(Map<String, String> config) {
        if (config == null || config.isEmpty()) {
            return DEFAULT;
        }
        int low = parse(config.get(LOW_THRESHOLD), DEFAULT_LOW_THRESHOLD, 0, 1000);
        int connect = parse(config.get(CONNECT_TIMEOUT_MS), Timeouts.DEFAULT_CONNECT_MILLIS, 1, MAX_TIMEOUT_MS);
        int read = parse(config.get(READ_TIMEOUT_MS), Timeouts.DEFAULT_READ_MILLIS, 1, MAX_TIMEOUT_MS);
        return new RealmOptions(low, new Timeouts(connect, read));
    }

    /** Whether a successful login should show the "few codes left" notice. 0 disables it. */
    public boolean isLow(int remaining) {
        return remaining > 0 && remaining <= lowThreshold;
    }

    static int parse(String raw, int fallback, int min, int max) {
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            return value < min || value > max ? fallback : value;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
