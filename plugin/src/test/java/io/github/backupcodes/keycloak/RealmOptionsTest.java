package io.github.backupcodes.keycloak;

import io.github.backupcodes.keycloak.bridge.Timeouts;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RealmOptionsTest {

    @Test
    void noConfigMeansDefaults() {
        assertEquals(new RealmOptions(3, new Timeouts(2000, 5000)), RealmOptions.from(null));
        assertEquals(RealmOptions.DEFAULT, RealmOptions.from(Map.of()));
    }

    @Test
    void configuredValuesAreUsed() {
        RealmOptions options = RealmOptions.from(Map.of(
                "low_threshold", "5", "connect_timeout_ms", "750", "read_timeout_ms", "1500"));
        assertEquals(5, options.lowThreshold());
        assertEquals(new Timeouts(750, 1500), options.timeouts());
    }

    @Test
    void garbageFallsBackToTheDefault() {
        RealmOptions options = RealmOptions.from(Map.of("low_threshold", "many", "read_timeout_ms", "-4"));
        assertEquals(3, options.lowThreshold());
        assertEquals(5000, options.timeouts().readMillis());
    }

    @Test
    void absurdTimeoutsFallBackToTheDefault() {
        assertEquals(2000, RealmOptions.from(Map.of("connect_timeout_ms", "999999999")).timeouts().connectMillis());
    }

    @Test
    void lowMeansAtOrUnderTheThresholdButNotZero() {
        RealmOptions options = RealmOptions.DEFAULT;
        assertTrue(options.isLow(3));
        assertTrue(options.isLow(1));
        assertFalse(options.isLow(4));
        assertFalse(options.isLow(0));
    }

    @Test
    void thresholdZeroTurnsTheNoticeOff() {
        assertFalse(RealmOptions.from(Map.of("low_threshold", "0")).isLow(1));
    }
}
