package io.github.backupcodes.keycloak;

/** Auth-session note names shared by our authenticators (docs/design.md, "Provider (ids)"). */
public final class AuthNotes {

    /** Set to "true" once a backup code was accepted in this authentication session, in any flow. */
    public static final String PASSED = "backup-code.passed";

    /** Set to "true" when the remember-device cookie was recognised by the bridge for this user. */
    public static final String DEVICE_RECOGNISED = "backup-code.device-recognised";

    private AuthNotes() {
    }
}
