package io.github.backupcodes.keycloak.bridge;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BridgeSettingsTest {

    private static final Map<String, String> ENV = Map.of(
            BridgeSettings.URL_ENV, "http://env:8000",
            BridgeSettings.KEY_ENV, "bcb_env_key");

    @Test
    void spiOptionsWinOverEnvironment() {
        Map<String, String> scope = Map.of("bridge-url", "http://spi:9000", "api-key", "bcb_spi_key");
        BridgeSettings settings = BridgeSettings.resolve(scope::get, ENV);
        assertEquals("http://spi:9000", settings.bridgeUrl());
        assertEquals("bcb_spi_key", settings.apiKey());
    }

    @Test
    void environmentIsTheFallback() {
        BridgeSettings settings = BridgeSettings.resolve(name -> null, ENV);
        assertEquals("http://env:8000", settings.bridgeUrl());
        assertEquals("bcb_env_key", settings.apiKey());
    }

    @Test
    void blankOptionFallsBackToEnvironment() {
        BridgeSettings settings = BridgeSettings.resolve(name -> "  ", ENV);
        assertEquals("http://env:8000", settings.bridgeUrl());
    }

    @Test
    void trailingSlashesAreDropped() {
        BridgeSettings settings = BridgeSettings.resolve(Map.of("bridge-url", "http://b:1//")::get, Map.of());
        assertEquals("http://b:1", settings.bridgeUrl());
    }

    @Test
    void severalUrlsAreKeptInOrderEachWithoutTrailingSlashes() {
        BridgeSettings settings = BridgeSettings.resolve(
                Map.of("bridge-url", "http://a:1/, http://b:2//")::get, Map.of());
        assertEquals("http://a:1,http://b:2", settings.bridgeUrl());
        assertEquals(java.util.List.of("http://a:1", "http://b:2"), settings.bridgeUrls());
    }

    @Test
    void missingKeyMeansNotConfigured() {
        BridgeSettings settings = BridgeSettings.resolve(Map.of("bridge-url", "http://b:1")::get, Map.of());
        assertNull(settings.apiKey());
        assertFalse(settings.configured());
    }

    @Test
    void toStringNeverShowsTheKey() {
        BridgeSettings settings = new BridgeSettings("http://b", "bcb_secret");
        assertFalse(settings.toString().contains("bcb_secret"));
        assertTrue(settings.configured());
    }

    @Test
    void vaultReferencesAreRecognised() {
        assertTrue(ApiKeyResolver.isVaultReference("${vault.bridge_key}"));
        assertFalse(ApiKeyResolver.isVaultReference("bcb_plain"));
        assertFalse(ApiKeyResolver.isVaultReference(null));
    }

    @Test
    void theBridgeBudgetDefaultsToThreeSeconds() {
        assertEquals(3000, BridgeSettings.resolve(name -> null, ENV).budgetMillis());
    }

    @Test
    void theBridgeBudgetComesFromTheSpiOptionThenTheEnvironment() {
        Map<String, String> env = Map.of(BridgeSettings.BUDGET_ENV, "2000");
        assertEquals(1200, BridgeSettings.resolve(Map.of("bridge-budget-ms", "1200")::get, env).budgetMillis());
        assertEquals(2000, BridgeSettings.resolve(name -> null, env).budgetMillis());
    }

    @Test
    void aBridgeBudgetOutOfRangeStopsStartUpNamingTheOptionAndRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BridgeSettings.resolve(Map.of("bridge-budget-ms", "30000")::get, Map.of()));
        assertTrue(e.getMessage().contains("bridge-budget-ms"), e.getMessage());
        assertTrue(e.getMessage().contains("100 to 15000"), e.getMessage());
    }
}
