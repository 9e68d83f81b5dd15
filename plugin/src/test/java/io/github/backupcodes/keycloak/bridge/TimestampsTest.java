package io.github.backupcodes.keycloak.bridge;

import org.junit.jupiter.api.Test;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimestampsTest {

    @Test
    void isoTimestampBecomesAReadableUtcTime() {
        String shown = Timestamps.display("2026-11-26T14:05:09.123456+00:00", Locale.ENGLISH);
        assertFalse(shown.contains("T14"), shown);
        assertTrue(shown.contains("2026") && shown.contains("Nov") && shown.endsWith("UTC"), shown);
    }

    @Test
    void otherOffsetsAreShownInUtc() {
        String shown = Timestamps.display("2026-11-26T15:05:00+01:00", Locale.ENGLISH);
        assertTrue(shown.contains("2:05") || shown.contains("14:05"), shown);
    }

    @Test
    void spanishUsersReadSpanishMonthNames() {
        assertTrue(Timestamps.display("2026-11-26T14:05:00Z", Locale.forLanguageTag("es")).contains("nov"));
    }

    @Test
    void naiveTimestampIsTakenAsUtc() {
        assertTrue(Timestamps.display("2026-11-26T14:05:00", Locale.ENGLISH).endsWith("UTC"));
    }

    @Test
    void unreadableValueIsShownUnchanged() {
        assertEquals("yesterday", Timestamps.display("yesterday", Locale.ENGLISH));
        assertEquals("", Timestamps.display(null, Locale.ENGLISH));
    }
}
