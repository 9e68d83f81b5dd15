package io.github.backupcodes.keycloak.bridge;

import org.keycloak.Config;

/**
 * One place that reads the server-level bridge options for all our factories.
 *
 * <p>Precedence: {@code --spi-authenticator--backup-code--*}, then the calling factory's own scope (e.g.
 * {@code --spi-required-action--backup-code-setup--*}), then {@code BACKUP_CODES_BRIDGE_URL/_API_KEY}.
 */
public final class ServerConfig {

    private ServerConfig() {
    }

    public static BridgeSettings load(Config.Scope own) {
        Config.Scope authenticator = Config.scope("authenticator", "backup-code");
        return BridgeSettings.resolve(
                name -> firstNonBlank(get(authenticator, name), get(own, name)),
                System.getenv());
    }

    private static String get(Config.Scope scope, String name) {
        return scope == null ? null : scope.get(name);
    }

    private static String firstNonBlank(String a, String b) {
        return a != null && !a.isBlank() ? a : b;
    }
}
