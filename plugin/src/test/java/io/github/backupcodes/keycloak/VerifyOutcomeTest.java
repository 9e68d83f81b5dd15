package io.github.backupcodes.keycloak;

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

    @Test
    void validCodeWithPlentyLeftSucceeds() {
        assertEquals(VerifyOutcome.SUCCESS, VerifyOutcome.of(valid(8, false), RealmOptions.DEFAULT));
    }

    @Test
    void validCodeAtTheThresholdOffersRegeneration() {
        assertEquals(VerifyOutcome.SUCCESS_LOW, VerifyOutcome.of(valid(3, false), RealmOptions.DEFAULT));
    }

    @Test
    void lastCodeRequiresSetup() {
        assertEquals(VerifyOutcome.SUCCESS_SETUP_REQUIRED, VerifyOutcome.of(valid(0, false), RealmOptions.DEFAULT));
    }

    @Test
    void bridgeAskingForEnrolmentRequiresSetup() {
        assertEquals(VerifyOutcome.SUCCESS_SETUP_REQUIRED, VerifyOutcome.of(valid(5, true), RealmOptions.DEFAULT));
    }

    @ParameterizedTest
    @CsvSource({"invalid", "used", "unknown_user", "no_codes", "locked", "rate_limited", "malformed"})
    void everyRefusalIsAFailure(String reason) {
        assertEquals(VerifyOutcome.FAILURE,
                VerifyOutcome.of(new VerifyResult(false, reason, 5, false, false), RealmOptions.DEFAULT));
    }

    @Test
    void busyIsRetryableNotAFailure() {
        assertEquals(VerifyOutcome.BUSY,
                VerifyOutcome.of(new VerifyResult(false, "busy", 0, false, false), RealmOptions.DEFAULT));
    }

    @Test
    void busyFromTheBridgeJsonIsRetryable() throws Exception {
        VerifyResult result = BridgeJson.parseVerify("""
                {"valid": false, "reason": "busy", "remaining": 0, "low": false, "enroll_required": false,
                 "locked_until": null, "cleared_locks": []}""");
        assertEquals(VerifyOutcome.BUSY, VerifyOutcome.of(result, RealmOptions.DEFAULT));
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
