package io.github.backupcodes.keycloak.bridge;

import java.util.Map;
import java.util.function.Function;

/**
 * Server-level bridge location and credential: from the SPI scope ({@code --spi-authenticator--backup-code--bridge-url},
 * {@code ...--api-key}), else from {@code BACKUP_CODES_BRIDGE_URL} / {@code BACKUP_CODES_BRIDGE_API_KEY}.
 *
 * <p>Deliberately not per-realm: realm admins can read execution config, and must not see the bridge key.
 * The key may be a vault reference ({@code ${vault.name}}), resolved per request by {@link ApiKeyResolver}.
 */
public record BridgeSettings(String bridgeUrl, String apiKey) {

    public static final String URL_OPTION = "bridge-url";
    public static final String KEY_OPTION = "api-key";
    public static final String URL_ENV = "BACKUP_CODES_BRIDGE_URL";
    public static final String KEY_ENV = "BACKUP_CODES_BRIDGE_API_KEY";

    public BridgeSettings {
        bridgeUrl = stripTrailingSlashes(blankToNull(bridgeUrl));
        apiKey = blankToNull(apiKey);
    }

    /**
     * Resolve from a scope lookup (option name → value, null when absent) and the environment.
     * Kept free of Keycloak types so the precedence is unit-tested.
     */
    public static BridgeSettings resolve(Function<String, String> scope, Map<String, String> env) {
        String url = firstNonBlank(scope.apply(URL_OPTION), env.get(URL_ENV));
        String key = firstNonBlank(scope.apply(KEY_OPTION), env.get(KEY_ENV));
        return new BridgeSettings(url, key);
    }

    public boolean configured() {
        return bridgeUrl != null && apiKey != null;
    }

    @Override
    public String toString() {
        return "BridgeSettings[bridgeUrl=" + bridgeUrl + ", apiKey=" + (apiKey == null ? "unset" : "***") + "]";
    }

    private static String firstNonBlank(String first, String second) {
        return blankToNull(first) != null ? first.trim() : blankToNull(second);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static String stripTrailingSlashes(String url) {
        if (url == null) {
            return null;
        }
        String result = url;
        while (result.endsWith("/")) {
            result = result.substring(0, result.length() - 1);
        }
        return result;
    }
}
