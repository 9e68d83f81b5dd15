package io.github.backupcodes.keycloak.bridge;

import org.keycloak.models.KeycloakSession;
import org.keycloak.vault.VaultStringSecret;

import java.util.Optional;

/** Turns the configured key into the bearer token, resolving a {@code ${vault.x}} reference through the realm vault. */
public final class ApiKeyResolver {

    private ApiKeyResolver() {
    }

    public static boolean isVaultReference(String value) {
        return value != null && value.startsWith("${vault.") && value.endsWith("}");
    }

    public static String resolve(KeycloakSession session, String configured) throws BridgeUnavailableException {
        if (configured == null) {
            throw new BridgeUnavailableException("bridge API key is not configured");
        }
        if (!isVaultReference(configured)) {
            return configured;
        }
        try (VaultStringSecret secret = session.vault().getStringSecret(configured)) {
            Optional<String> value = secret.get();
            if (value.isEmpty() || value.get().isBlank()) {
                throw new BridgeUnavailableException("bridge API key vault entry is empty or missing");
            }
            return value.get();
        }
    }
}
