package io.github.backupcodes.keycloak.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BridgeJsonTest {

    @Test
    void statusIsReadFromTheDocumentedShape() throws Exception {
        BridgeStatus status = BridgeJson.parseStatus(Fixtures.json("Status/locked-ldap"));
        assertEquals(new BridgeStatus(true, 7, 10, false, false, true, "ldap", "temporary", "",
                "2026-01-01T00:00:00Z", ""), status);
    }

    @Test
    void statusCarriesTheSetsDatesAndTheLocksEnd() throws Exception {
        BridgeStatus status = BridgeJson.parseStatus(Fixtures.json("Status/locked-codes"));
        assertEquals("2026-12-04T21:00:00+00:00", status.createdAt());
        assertEquals("2026-12-04T21:30:00+00:00", status.lastUsedAt());
        assertEquals("2026-12-04T21:45:00+00:00", status.lockUntil());
    }

    @Test
    void aFailureThatLocksSaysUntilWhen() throws Exception {
        VerifyResult result = BridgeJson.parseVerify(Fixtures.json("VerifyResult/invalid-locking"));
        assertEquals("2026-12-04T21:45:00+00:00", result.lockedUntil());
    }

    @Test
    void aFailureThatDoesNotLockHasNoEnd() throws Exception {
        assertEquals("", BridgeJson.parseVerify(Fixtures.json("VerifyResult/invalid")).lockedUntil());
    }

    @Test
    void resetBodyNamesTheAdminReasonAndIdentityCheck() {
        JsonNode body = Fixtures.tree(BridgeJson.resetBody("keycloak-admin:master/hd", "why", "how"));
        assertEquals("keycloak-admin:master/hd", body.path("actor").asText());
        assertEquals("why", body.path("reason").asText());
        assertEquals("how", body.path("identity_check").asText());
    }

    @Test
    void unknownUserStatusMeansNotEnrolled() throws Exception {
        BridgeStatus status = BridgeJson.parseStatus(Fixtures.json("Status/unknown-user"));
        assertFalse(status.enrolled());
        assertFalse(status.usable());
    }

    @Test
    void statusWithoutEnrolledIsUnavailableNotFalse() {
        assertThrows(BridgeUnavailableException.class, () -> BridgeJson.parseStatus("{\"remaining\": 3}"));
    }

    @Test
    void unreadableBodyIsUnavailableAndTheMessageDoesNotQuoteIt() {
        BridgeUnavailableException e = assertThrows(BridgeUnavailableException.class,
                () -> BridgeJson.parseVerify("{\"code\": \"ABCD-EFGH\" oops"));
        assertFalse(e.getMessage().contains("ABCD"));
    }

    @Test
    void arrayBodyIsUnavailable() {
        assertThrows(BridgeUnavailableException.class, () -> BridgeJson.parseStatus("[]"));
    }

    @Test
    void validVerifyCarriesRemainingAndFlags() throws Exception {
        VerifyResult result = BridgeJson.parseVerify(Fixtures.json("VerifyResult/valid-low"));
        assertEquals(new VerifyResult(true, "ok", 2, true, false), result);
    }

    @Test
    void invalidVerifyKeepsTheBridgeReason() throws Exception {
        VerifyResult result = BridgeJson.parseVerify(Fixtures.json("VerifyResult/used"));
        assertFalse(result.valid());
        assertEquals("used", result.reason());
    }

    @Test
    void invalidVerifyWithoutReasonDefaultsToInvalid() throws Exception {
        assertEquals("invalid", BridgeJson.parseVerify("{\"valid\": false}").reason());
    }

    @Test
    void verifyWithStringValidIsUnavailable() {
        assertThrows(BridgeUnavailableException.class, () -> BridgeJson.parseVerify("{\"valid\": \"true\"}"));
    }

    @Test
    void issuedSetKeepsCodesInOrder() throws Exception {
        IssuedCodes issued = BridgeJson.parseIssued(Fixtures.json("IssuedSet/two-codes"));
        assertEquals(List.of("AAAA-BBBB-CCCC-DDDD", "EEEE-FFFF-GGGG-HHHH"), issued.codes());
        assertEquals("s1", issued.setId());
    }

    @Test
    void issuedSetWithoutCodesIsUnavailable() {
        assertThrows(BridgeUnavailableException.class, () -> BridgeJson.parseIssued("{\"codes\": []}"));
    }

    @Test
    void issuedSetToStringHidesTheCodes() throws Exception {
        IssuedCodes issued = BridgeJson.parseIssued("{\"codes\": [\"SECRET-CODE\"], \"set_id\": \"s\"}");
        assertFalse(issued.toString().contains("SECRET"));
    }

    @Test
    void errorCodeIsReadFromErrorBodies() {
        assertEquals("rate_limited", BridgeJson.errorCode(Fixtures.json("Error/rate-limited")));
        assertEquals("", BridgeJson.errorCode("<html>502</html>"));
    }

    @Test
    void verifyBodyHasTheDocumentedFields() {
        String body = BridgeJson.verifyBody("abcd-efgh", "10.0.0.1", "Firefox", "login");
        assertEquals(Fixtures.tree(Fixtures.json("VerifyRequest/login")), Fixtures.tree(body));
        assertTrue(body.contains("\"code\":\"abcd-efgh\""));
        assertTrue(body.contains("\"client_ip\":\"10.0.0.1\""));
        assertTrue(body.contains("\"user_agent\":\"Firefox\""));
        assertTrue(body.contains("\"purpose\":\"login\""));
    }

    @Test
    void verifyBodyTruncatesHugeUserAgents() {
        String body = BridgeJson.verifyBody("c", "ip", "x".repeat(5000), "login");
        assertTrue(body.length() < 700);
    }

    @Test
    void sheetBodyUsesSnakeCaseNames() {
        String body = BridgeJson.sheetBody(new SheetRequest(
                List.of("AAAA-BBBB-CCCC-DDDD", "EEEE-FFFF-GGGG-HHHH"), "alice", "ACME", "2026-01-01", "es"));
        assertEquals(Fixtures.tree(Fixtures.json("SheetRequest/spanish")), Fixtures.tree(body));
        assertTrue(body.contains("\"realm_display_name\":\"ACME\""));
        assertTrue(body.contains("\"locale\":\"es\""));
    }

    @Test
    void statusCarriesTheLockSourceAndKind() throws Exception {
        BridgeStatus status = BridgeJson.parseStatus(Fixtures.json("Status/locked-directory"));
        assertEquals("directory", status.lockSource());
        assertEquals("temporary", status.lockKind());
    }

    @Test
    void statusWithoutALockHasEmptySourceAndKind() throws Exception {
        BridgeStatus status = BridgeJson.parseStatus("{\"enrolled\": true, \"lock\": {\"locked\": false, \"source\": null}}");
        assertEquals("", status.lockSource());
        assertEquals("", status.lockKind());
    }

    @Test
    void failedVerifyNeverReportsClearedLocks() throws Exception {
        VerifyResult result = BridgeJson.parseVerify("{\"valid\": false, \"cleared_locks\": [\"directory\"]}");
        assertTrue(result.clearedLocks().isEmpty());
    }

    @Test
    void verifyWithoutClearedLocksHasAnEmptyList() throws Exception {
        assertTrue(BridgeJson.parseVerify("{\"valid\": true, \"remaining\": 3}").clearedLocks().isEmpty());
    }

    @Test
    void deviceRegistrationWithoutTokenIsUnavailable() {
        assertThrows(BridgeUnavailableException.class,
                () -> BridgeJson.parseDeviceRegistration("{\"device_id\": \"d1\", \"max_age_seconds\": 60}"));
    }

    @Test
    void deviceCheckWithoutRecognisedIsUnavailable() {
        assertThrows(BridgeUnavailableException.class, () -> BridgeJson.parseDeviceCheck("{\"reason\": \"ok\"}"));
    }

    @Test
    void contactPatchSendsABlankFieldAsNull() {
        assertEquals(Fixtures.tree(Fixtures.json("ContactPatch/clear-email")),
                Fixtures.tree(BridgeJson.contactPatchBody(new ContactPatch().email(" ").locale("es"))));
    }
}
