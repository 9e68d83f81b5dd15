package io.github.backupcodes.keycloak.bridge;

import java.util.List;

/**
 * Answer of {@code POST .../codes/verify}; {@code reason} is one of the bridge's machine reasons. {@code clearedLocks}
 * lists the lock sources a successful recovery lifted ({@code directory}, {@code keycloak}); empty otherwise.
 * {@code lockedUntil} is set ("" otherwise) when this failure locked the user: the login event says so.
 */
public record VerifyResult(boolean valid, String reason, int remaining, boolean low, boolean enrollRequired,
                           List<String> clearedLocks, String lockedUntil) {

    public VerifyResult {
        clearedLocks = clearedLocks == null ? List.of() : List.copyOf(clearedLocks);
        lockedUntil = lockedUntil == null ? "" : lockedUntil;
    }

    public VerifyResult(boolean valid, String reason, int remaining, boolean low, boolean enrollRequired,
                        List<String> clearedLocks) {
        this(valid, reason, remaining, low, enrollRequired, clearedLocks, "");
    }

    public VerifyResult(boolean valid, String reason, int remaining, boolean low, boolean enrollRequired) {
        this(valid, reason, remaining, low, enrollRequired, List.of());
    }

    /** A local verdict for input the bridge never saw (e.g. over-long), so events look the same either way. */
    public static VerifyResult rejectedLocally(String reason) {
        return new VerifyResult(false, reason, -1, false, false);
    }
}
