package io.github.backupcodes.keycloak.bridge;

/** One remembered device as {@code GET .../devices} lists it; timestamps are the bridge's ISO-8601 strings. */
public record Device(String deviceId, String name, String firstSeen, String lastSeen, String lastIp) {
}
