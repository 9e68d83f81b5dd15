package io.github.backupcodes.keycloak.bridge;

/** Per-request limits for bridge calls: a login must not hang because the bridge does. */
public record Timeouts(int connectMillis, int readMillis) {

    public static final int DEFAULT_CONNECT_MILLIS = 2000;
    public static final int DEFAULT_READ_MILLIS = 5000;
    public static final Timeouts DEFAULT = new Timeouts(DEFAULT_CONNECT_MILLIS, DEFAULT_READ_MILLIS);
}
