package io.github.backupcodes.keycloak.login;

import io.github.backupcodes.keycloak.bridge.VerifyResult;
import org.keycloak.events.Errors;

/**
 * Maps a bridge verdict to what the login does next and to the Keycloak event error. Pure, so every reason is tested.
 * Users always see one generic message; admins see the bridge reason in the event details.
 */
public enum VerifyOutcome {
    /** Valid code, enough left. */
    SUCCESS,
    /** Valid code, and the bridge says few are left ({@code low}, by its policy's threshold): offer regeneration. */
    SUCCESS_LOW,
    /** Valid code, but the set is exhausted or the bridge wants a new enrolment: require setup. */
    SUCCESS_SETUP_REQUIRED,
    /**
     * The bridge did not check the code because the user's other attempts, still being checked, fill its failure limit
     * (reason {@code busy}): nothing was used or counted. Show "try again"; not a failed login for Keycloak either.
     */
    BUSY,
    /** Anything else: count as a failed login. */
    FAILURE;

    /** The bridge's retryable refusal (see {@link #BUSY}). */
    public static final String REASON_BUSY = "busy";

    /** Event error for a failed verification, by bridge reason. */
    public static String eventError(String reason) {
        if (reason == null) {
            return Errors.INVALID_USER_CREDENTIALS;
        }
        return switch (reason) {
            case "locked" -> Errors.USER_TEMPORARILY_DISABLED;
            case "rate_limited" -> "backup_code_rate_limited";
            case "unknown_user", "no_codes" -> "backup_code_not_enrolled";
            default -> Errors.INVALID_USER_CREDENTIALS;
        };
    }

    public static VerifyOutcome of(VerifyResult result) {
        if (!result.valid()) {
            return REASON_BUSY.equals(result.reason()) ? BUSY : FAILURE;
        }
        if (result.enrollRequired() || result.remaining() == 0) {
            return SUCCESS_SETUP_REQUIRED;
        }
        if (result.low()) {
            return SUCCESS_LOW;
        }
        return SUCCESS;
    }

    /** Whether the bridge refused the code ({@link #BUSY} or {@link #FAILURE}): nothing was accepted. */
    public boolean refused() {
        return this == BUSY || this == FAILURE;
    }

    /** Whether Keycloak's brute-force detection counts this as a failed login ({@code failureChallenge}). */
    public boolean countsAsFailedLogin() {
        return this == FAILURE;
    }
}
