package io.github.backupcodes.keycloak.bridge;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which bridge URL is tried first, on a clock the test moves. */
class BridgeEndpointsTest {

    private static final long MS = 1_000_000L;
    private final AtomicLong now = new AtomicLong(5_000 * MS);

    private BridgeEndpoints endpoints(String configured) {
        return BridgeEndpoints.of(configured, 15_000, 500, now::get);
    }

    @Test
    void aSingleUrlIsAListOfOne() {
        assertEquals(List.of("http://a:8000"), BridgeEndpoints.parse("http://a:8000/"));
    }

    @Test
    void aCommaSeparatedListIsTrimmedWithoutEmptiesOrRepeats() {
        assertEquals(List.of("http://a:8000", "http://b:8000"),
                BridgeEndpoints.parse(" http://a:8000/ , ,http://b:8000,http://a:8000"));
    }

    @Test
    void noUrlIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> endpoints(" , "));
    }

    @Test
    void urlsAreTriedInTheConfiguredOrder() {
        assertEquals(List.of("http://a", "http://b", "http://c"), endpoints("http://a,http://b,http://c").order());
    }

    @Test
    void aUrlThatRefusedIsTriedAfterTheOthers() {
        BridgeEndpoints endpoints = endpoints("http://a,http://b,http://c");
        endpoints.markDown("http://a");
        assertEquals(List.of("http://b", "http://c", "http://a"), endpoints.order());
        assertTrue(endpoints.skipped("http://a"));
    }

    @Test
    void aSkippedUrlGetsItsPlaceBackWhenTheSkipPeriodIsOver() {
        BridgeEndpoints endpoints = endpoints("http://a,http://b");
        endpoints.markDown("http://a");
        now.addAndGet(14_999 * MS);
        assertEquals(List.of("http://b", "http://a"), endpoints.order());
        now.addAndGet(MS);
        assertEquals(List.of("http://a", "http://b"), endpoints.order());
        assertFalse(endpoints.skipped("http://a"));
    }

    @Test
    void aUrlThatAnsweredIsNoLongerSkipped() {
        BridgeEndpoints endpoints = endpoints("http://a,http://b");
        endpoints.markDown("http://a");
        endpoints.markUp("http://a");
        assertEquals(List.of("http://a", "http://b"), endpoints.order());
    }

    @Test
    void whenAllAreSkippedTheyAreStillTriedSoonestRetryFirst() {
        BridgeEndpoints endpoints = endpoints("http://a,http://b");
        endpoints.markDown("http://b");
        now.addAndGet(1_000 * MS);
        endpoints.markDown("http://a");
        assertEquals(List.of("http://b", "http://a"), endpoints.order());
    }

    @Test
    void everyRequestOfTheServerSharesOneStatePerConfiguredList() {
        assertSame(BridgeEndpoints.shared("http://shared-a,http://shared-b"),
                BridgeEndpoints.shared("http://shared-a/, http://shared-b"));
    }
}
