package io.github.backupcodes.keycloak.login;

import io.github.backupcodes.keycloak.bridge.BridgeJson;
import io.github.backupcodes.keycloak.bridge.VerifyResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.keycloak.events.Errors;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VerifyOutcomeTest {

    private static VerifyResult valid(int remaining, boolean enrollRequired) {
        return new VerifyResult(true, "ok", remaining, false, enrollRequired);
    }

    /** A valid code as the bridge answers it, {@code low} being the bridge policy's verdict. */
    private static VerifyResult validLow(int remaining) {
        return new VerifyResult(true, "ok", remaining, true, false);
    }

    @Test
    void validCodeWithPlentyLeftSucceeds() {
        assertEquals(VerifyOutcome.SUCCESS, VerifyOutcome.of(valid(8, false)));
    }

    @Test
    void validCodeTheBridgeCallsLowOffersRegeneration() {
        assertEquals(VerifyOutcome.SUCCESS_LOW, VerifyOutcome.of(validLow(3)));
    }

    @Test
    void theBridgesThresholdAloneDecidesWhatIsLow() {
        assertEquals(VerifyOutcome.SUCCESS, VerifyOutcome.of(valid(1, false)));
        assertEquals(VerifyOutcome.SUCCESS_LOW, VerifyOutcome.of(validLow(9)));
    }

    @Test
    void aLowLastCodeStillRequiresSetup() {
        assertEquals(VerifyOutcome.SUCCESS_SETUP_REQUIRED, VerifyOutcome.of(validLow(0)));
    }

    @Test
    void lastCodeRequiresSetup() {
        assertEquals(VerifyOutcome.SUCCESS_SETUP_REQUIRED, VerifyOutcome.of(valid(0, false)));
    }

    @Test
    void bridgeAskingForEnrolmentRequiresSetup() {
        assertEquals(VerifyOutcome.SUCCESS_SETUP_REQUIRED, VerifyOutcome.of(valid(5, true)));
    }

    @ParameterizedTest
    @CsvSource({"invalid", "used", "unknown_user", "no_codes", "locked", "rate_limited", "malformed"})
    void everyRefusalIsAFailure(String reason) {
        assertEquals(VerifyOutcome.FAILURE,
                VerifyOutcome.of(new VerifyResult(false, reason, 5, false, false)));
    }

    @Test
    void busyIsRetryableNotAFailure() {
        assertEquals(VerifyOutcome.BUSY,
                VerifyOutcome.of(new VerifyResult(false, "busy", 0, false, false)));
    }

    @Test
    void busyFromTheBridgeJsonIsRetryable() throws Exception {
        VerifyResult result = BridgeJson.parseVerify("""
                {"valid": false, "reason": "busy", "remaining": 0, "low": false, "enroll_required": false,
                 "locked_until": null, "cleared_locks": []}""");
        assertEquals(VerifyOutcome.BUSY, VerifyOutcome.of(result));
    }

    @ParameterizedTest
    @EnumSource(VerifyOutcome.class)
    void onlyAFailureCountsAsAFailedLogin(VerifyOutcome outcome) {
        assertEquals(outcome == VerifyOutcome.FAILURE, outcome.countsAsFailedLogin());
    }

    @ParameterizedTest
    @CsvSource({
            "invalid, invalid_user_credentials",
            "used, invalid_user_credentials",
            "malformed, invalid_user_credentials",
            "locked, user_temporarily_disabled",
            "rate_limited, backup_code_rate_limited",
            "no_codes, backup_code_not_enrolled",
            "unknown_user, backup_code_not_enrolled"})
    void eventErrorNamesTheReasonForAdmins(String reason, String error) {
        assertEquals(error, VerifyOutcome.eventError(reason));
    }

    @Test
    void eventErrorsMatchKeycloakConstants() {
        assertEquals(Errors.INVALID_USER_CREDENTIALS, VerifyOutcome.eventError(null));
        assertEquals(Errors.USER_TEMPORARILY_DISABLED, VerifyOutcome.eventError("locked"));
    }
}
