package io.github.backupcodes.keycloak.bridge;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RealmBudgetTest {

    @Test
    void theRealmsBridgeBudgetWinsOverTheServers() {
        assertEquals(1500, RealmBudget.millis(Map.of("bridge_budget_ms", "1500"), 3000));
    }

    @Test
    void withoutARealmBudgetTheServersApplies() {
        assertEquals(2500, RealmBudget.millis(null, 2500));
        assertEquals(2500, RealmBudget.millis(Map.of("enroll_after_otp", "true"), 2500));
    }

    @Test
    void aRealmBudgetOutOfRangeCountsAsUnset() {
        assertEquals(3000, RealmBudget.millis(Map.of("bridge_budget_ms", "60000"), 3000));
        assertEquals(3000, RealmBudget.millis(Map.of("bridge_budget_ms", "soon"), 3000));
    }

    @Test
    void theFormerPerCallTimeoutsNoLongerSetTheBudget() {
        assertEquals(3000, RealmBudget.millis(Map.of("connect_timeout_ms", "2000", "read_timeout_ms", "5000"), 3000));
    }
}
