package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.bridge.Device;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class DevicesActionTest {

    @Test
    void devicePageShowsReadableTimesAndKeepsTheIsoValues() {
        List<Map<String, String>> rows = DevicesAction.view(List.of(new Device("d1", "Chrome on Linux",
                "2026-01-01T10:00:00Z", "2026-01-02T11:30:00Z", "192.0.2.7")), Locale.ENGLISH);
        Map<String, String> row = rows.get(0);
        assertEquals("Chrome on Linux", row.get("name"));
        assertEquals("2026-01-02T11:30:00Z", row.get("lastSeenIso"));
        assertFalse(row.get("lastSeen").contains("T11"), row.get("lastSeen"));
    }

    @Test
    void devicePageDoesNotShowTheIpAddress() {
        Map<String, String> row = DevicesAction.view(List.of(new Device("d1", "x", "", "", "192.0.2.7")), Locale.ENGLISH).get(0);
        assertFalse(row.containsValue("192.0.2.7"));
    }
}
