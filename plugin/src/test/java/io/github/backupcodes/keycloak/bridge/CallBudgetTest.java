package io.github.backupcodes.keycloak.bridge;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The arithmetic of one deadline shared by all bridge calls of a request, on a hand-driven clock. */
class CallBudgetTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    private void advanceMillis(long millis) {
        nanos.addAndGet(millis * 1_000_000L);
    }

    @Test
    void aFreshBudgetHasItAllLeft() {
        CallBudget budget = CallBudget.startingNow(3000, nanos::get);
        assertEquals(3000, budget.remainingMillis());
        assertFalse(budget.spent());
    }

    @Test
    void eachCallGetsOnlyWhatEarlierCallsLeft() {
        CallBudget budget = CallBudget.startingNow(3000, nanos::get);
        advanceMillis(1200);
        assertEquals(1800, budget.remainingMillis());
        advanceMillis(1700);
        assertEquals(100, budget.remainingMillis());
    }

    @Test
    void aFractionOfAMillisecondLeftStillCountsAsOneNeverAsNoLimit() {
        CallBudget budget = CallBudget.startingNow(3000, nanos::get);
        nanos.addAndGet(2_999_999_999L);  // one nanosecond left
        assertEquals(1, budget.remainingMillis());
    }

    @Test
    void atTheDeadlineTheBudgetIsSpent() {
        CallBudget budget = CallBudget.startingNow(3000, nanos::get);
        advanceMillis(3000);
        assertEquals(0, budget.remainingMillis());
        assertTrue(budget.spent());
        advanceMillis(60_000);
        assertEquals(0, budget.remainingMillis());
    }

    @Test
    void theDefaultIsAtMostThreeSeconds() {
        assertTrue(CallBudget.DEFAULT_MILLIS <= 3000);
    }

    @Test
    void aBudgetOutsideTheRangeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> CallBudget.startingNow(99));
        assertThrows(IllegalArgumentException.class, () -> CallBudget.startingNow(15_001));
    }

    @Test
    void parsingAcceptsTheRangeInclusive() {
        assertEquals(100, CallBudget.parseMillis("f", "100"));
        assertEquals(15_000, CallBudget.parseMillis("f", " 15000 "));
    }

    @Test
    void parsingRefusesWithTheFieldAndTheRange() {
        for (String raw : new String[] {"0", "-5", "99", "15001", "2.5", "3s", "", "99999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CallBudget.parseMillis("bridge_budget_ms", raw), raw);
            assertEquals("bridge_budget_ms must be a whole number of milliseconds from 100 to 15000", e.getMessage());
        }
    }
}
