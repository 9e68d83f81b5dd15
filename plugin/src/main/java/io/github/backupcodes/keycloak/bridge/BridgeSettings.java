package io.github.backupcodes.keycloak.bridge;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Server-level bridge location and credential: from the SPI scope ({@code --spi-authenticator--backup-code--bridge-url},
 * {@code ...--api-key}), else from {@code BACKUP_CODES_BRIDGE_URL} / {@code BACKUP_CODES_BRIDGE_API_KEY}.
 *
 * <p>{@code bridgeUrl} may name several bridge instances, comma-separated ({@code http://a:8000,http://b:8000}):
 * they are tried in that order, a refused one skipped for a while ({@link BridgeEndpoints}). One URL, the original
 * form, is a list of one.
 *
 * <p>Deliberately not per-realm: realm admins can read execution config, and must not see the bridge key.
 * The key may be a vault reference ({@code ${vault.name}}), resolved per request by {@link ApiKeyResolver}.
 *
 * <p>{@code budgetMillis} is the server's default time budget for all bridge calls of one Keycloak request
 * ({@code ...--bridge-budget-ms} or {@code BACKUP_CODES_BRIDGE_BUDGET_MS}, default {@value CallBudget#DEFAULT_MILLIS});
 * a realm may set its own in the required-action config (see {@code BridgeAccess}).
 */
public record BridgeSettings(String bridgeUrl, String apiKey, int budgetMillis) {

    public static final String URL_OPTION = "bridge-url";
    public static final String KEY_OPTION = "api-key";
    public static final String URL_ENV = "BACKUP_CODES_BRIDGE_URL";
    public static final String KEY_ENV = "BACKUP_CODES_BRIDGE_API_KEY";
    public static final String BUDGET_OPTION = "bridge-budget-ms";
    public static final String BUDGET_ENV = "BACKUP_CODES_BRIDGE_BUDGET_MS";

    public BridgeSettings {
        bridgeUrl = normalizeUrls(bridgeUrl);
        apiKey = blankToNull(apiKey);
    }

    public BridgeSettings(String bridgeUrl, String apiKey) {
        this(bridgeUrl, apiKey, CallBudget.DEFAULT_MILLIS);
    }

    /**
     * Resolve from a scope lookup (option name → value, null when absent) and the environment.
     * Kept free of Keycloak types so the precedence is unit-tested.
     *
     * @throws IllegalArgumentException for a budget that is not a whole number in range: Keycloak then refuses to
     *                                  start with that message, as it does for its own invalid options
     */
    public static BridgeSettings resolve(Function<String, String> scope, Map<String, String> env) {
        String url = firstNonBlank(scope.apply(URL_OPTION), env.get(URL_ENV));
        String key = firstNonBlank(scope.apply(KEY_OPTION), env.get(KEY_ENV));
        String budget = firstNonBlank(scope.apply(BUDGET_OPTION), env.get(BUDGET_ENV));
        int budgetMillis = budget == null ? CallBudget.DEFAULT_MILLIS
                : CallBudget.parseMillis("backup-codes " + BUDGET_OPTION + " (" + BUDGET_ENV + ")", budget);
        return new BridgeSettings(url, key, budgetMillis);
    }

    /** The configured bridge instances in order of preference (empty when none). */
    public List<String> bridgeUrls() {
        return BridgeEndpoints.parse(bridgeUrl);
    }

    public boolean configured() {
        return bridgeUrl != null && apiKey != null;
    }

    @Override
    public String toString() {
        return "BridgeSettings[bridgeUrl=" + bridgeUrl + ", apiKey=" + (apiKey == null ? "unset" : "***")
                + ", budgetMillis=" + budgetMillis + "]";
    }

    private static String firstNonBlank(String first, String second) {
        return blankToNull(first) != null ? first.trim() : blankToNull(second);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    /** Each URL trimmed and without trailing slashes, joined by commas; null when none is left. */
    private static String normalizeUrls(String value) {
        List<String> urls = BridgeEndpoints.parse(value);
        return urls.isEmpty() ? null : String.join(",", urls);
    }
}
