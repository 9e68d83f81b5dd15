package io.github.backupcodes.keycloak.bridge;

/** Answer of {@code POST .../codes/verify}; {@code reason} is one of the bridge's machine reasons. */
public record VerifyResult(boolean valid, String reason, int remaining, boolean low, boolean enrollRequired) {

    /** A local verdict for input the bridge never saw (e.g. over-long), so events look the same either way. */
    public static VerifyResult rejectedLocally(String reason) {
        return new VerifyResult(false, reason, -1, false, false);
    }
}
