package io.github.backupcodes.keycloak;

import io.github.backupcodes.keycloak.bridge.CallBudget;

import java.util.Map;

/**
 * Per-realm knobs. None of them is secret: realm admins can read them. Bad values fall back to the default instead of
 * breaking logins.
 *
 * <ul>
 *   <li>{@value #LOW_THRESHOLD}: from the {@code backup-code} execution config.</li>
 *   <li>{@value #BRIDGE_BUDGET_MS}: from the {@code backup-code-setup} required-action config, the one config a realm
 *       has once (an execution config exists per flow) and the one Keycloak lets us validate when it is saved
 *       ({@code RequiredActionFactory.validateConfig}); it covers every bridge call in the realm, see
 *       {@link BridgeAccess}.</li>
 * </ul>
 *
 * <p>The former {@code connect_timeout_ms} and {@code read_timeout_ms} are ignored: separate per-call timeouts
 * added up to tens of seconds per login step when the bridge hung.
 */
public record RealmOptions(int lowThreshold) {

    public static final String LOW_THRESHOLD = "low_threshold";
    public static final String BRIDGE_BUDGET_MS = "bridge_budget_ms";

    public static final int DEFAULT_LOW_THRESHOLD = 3;

    public static final RealmOptions DEFAULT = new RealmOptions(DEFAULT_LOW_THRESHOLD);

    public static RealmOptions from(Map<String, String> config) {
        if (config == null || config.isEmpty()) {
            return DEFAULT;
        }
        return new RealmOptions(parse(config.get(LOW_THRESHOLD), DEFAULT_LOW_THRESHOLD, 0, 1000));
    }

    /**
     * The realm's bridge time budget from its required-action config, else the server's. A value that slipped past
     * validation (a realm import does not run it) counts as unset.
     */
    public static int budgetMillis(Map<String, String> requiredActionConfig, int serverDefault) {
        String raw = requiredActionConfig == null ? null : requiredActionConfig.get(BRIDGE_BUDGET_MS);
        return parse(raw, serverDefault, CallBudget.MIN_MILLIS, CallBudget.MAX_MILLIS);
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
