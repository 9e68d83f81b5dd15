package io.github.backupcodes.keycloak;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RealmOptionsTest {

    @Test
    void noConfigMeansDefaults() {
        assertEquals(new RealmOptions(3), RealmOptions.from(null));
        assertEquals(RealmOptions.DEFAULT, RealmOptions.from(Map.of()));
    }

    @Test
    void configuredThresholdIsUsed() {
        assertEquals(5, RealmOptions.from(Map.of("low_threshold", "5")).lowThreshold());
    }

    @Test
    void garbageThresholdFallsBackToTheDefault() {
        assertEquals(3, RealmOptions.from(Map.of("low_threshold", "many")).lowThreshold());
    }

    @Test
    void theRealmsBridgeBudgetWinsOverTheServers() {
        assertEquals(1500, RealmOptions.budgetMillis(Map.of("bridge_budget_ms", "1500"), 3000));
    }

    @Test
    void withoutARealmBudgetTheServersApplies() {
        assertEquals(2500, RealmOptions.budgetMillis(null, 2500));
        assertEquals(2500, RealmOptions.budgetMillis(Map.of("enroll_after_otp", "true"), 2500));
    }

    @Test
    void aRealmBudgetOutOfRangeCountsAsUnset() {
        assertEquals(3000, RealmOptions.budgetMillis(Map.of("bridge_budget_ms", "60000"), 3000));
        assertEquals(3000, RealmOptions.budgetMillis(Map.of("bridge_budget_ms", "soon"), 3000));
    }

    @Test
    void theFormerPerCallTimeoutsNoLongerSetTheBudget() {
        assertEquals(3000, RealmOptions.budgetMillis(Map.of("connect_timeout_ms", "2000", "read_timeout_ms", "5000"), 3000));
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
