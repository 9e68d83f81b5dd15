package io.github.backupcodes.keycloak.bridge;

/** Answer of {@code POST .../devices}: the token is the cookie value, opaque to the provider and never logged. */
public record DeviceRegistration(String deviceId, String token, String name, String expiresAt, int maxAgeSeconds) {

    @Override
    public String toString() {
        return "DeviceRegistration[deviceId=" + deviceId + ", name=" + name + ", expiresAt=" + expiresAt + "]";
    }
}
