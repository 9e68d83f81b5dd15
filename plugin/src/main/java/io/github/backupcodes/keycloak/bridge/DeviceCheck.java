package io.github.backupcodes.keycloak.bridge;

/** Answer of {@code POST .../devices/check}; reason is ok | invalid | expired | forgotten (| disabled, local). */
public record DeviceCheck(boolean recognised, String deviceId, String reason) {

    /** Device recognition is off in the bridge (409 {@code device_recognition_disabled}): every device is new. */
    public static final DeviceCheck DISABLED = new DeviceCheck(false, null, "disabled");
}
