package io.github.backupcodes.keycloak.credential;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import org.junit.jupiter.api.Test;
import org.keycloak.credential.CredentialModel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the admin console's Credentials tab shows of a user's backup codes. */
class MarkerStatusTest {

    private static final BridgeStatus USED = new BridgeStatus(true, 8, 10, false, false, false, "", "", "",
            "2026-12-04T21:00:00+00:00", "2026-12-04T21:30:00+00:00");
    private static final BridgeStatus LOCKED = new BridgeStatus(true, 8, 10, false, false, true, "codes", "temporary",
            "2026-12-04T22:45:00+01:00", "2026-12-04T21:00:00+00:00", "2026-12-04T21:30:00+00:00");

    @Test
    void labelSaysHowManyAreLeftAndWhenOneWasLastUsed() {
        assertEquals("8 of 10 left · used 2026-12-04 21:30 UTC", MarkerStatus.label(USED));
    }

    @Test
    void labelSaysNeverUsedForAFreshSet() {
        BridgeStatus fresh = new BridgeStatus(true, 10, 10, false, false, false, "", "", "", "2026-12-04T21:00:00Z", "");
        assertEquals("10 of 10 left · never used", MarkerStatus.label(fresh));
    }

    @Test
    void labelNamesTheLockItsKindAndItsEndInUtc() {
        assertEquals("8 of 10 left · used 2026-12-04 21:30 UTC · locked (codes, temporary) until"
                + " 2026-12-04 21:45 UTC", MarkerStatus.label(LOCKED));
    }

    @Test
    void labelSaysWhenTheBridgeHoldsNothing() {
        BridgeStatus none = new BridgeStatus(false, 0, 0, false, true, false);
        assertEquals("none in the bridge · new set due", MarkerStatus.label(none));
    }

    @Test
    void dataKeepsTheSetIdAndCarriesCountsDatesAndLock() throws Exception {
        JsonNode data = new ObjectMapper().readTree(
                MarkerStatus.data("{\"setId\":\"s-1\",\"createdAt\":\"x\",\"storage\":\"bridge\"}", LOCKED));
        assertEquals("s-1", data.path("setId").asText());
        assertEquals("8", data.path("remaining").asText());
        assertEquals("10", data.path("total").asText());
        assertEquals("2026-12-04T21:00:00+00:00", data.path("createdAt").asText());
        assertEquals("2026-12-04T21:30:00+00:00", data.path("lastUsedAt").asText());
        assertEquals("codes, temporary", data.path("lock").asText());
        assertEquals("2026-12-04T22:45:00+01:00", data.path("lockUntil").asText());
    }

    @Test
    void aMarkerThatAlreadyShowsTheStatusIsNotRewritten() {
        CredentialModel stored = BackupCodeCredentialModel.create("s-1", "2026-12-04T21:00:00+00:00");
        CredentialModel once = MarkerStatus.refreshed(stored, USED).orElseThrow();
        assertTrue(MarkerStatus.refreshed(once, USED).isEmpty());
        assertTrue(MarkerStatus.refreshed(once, LOCKED).isPresent());
    }

    @Test
    void aRefreshKeepsTheMarkersIdentity() {
        CredentialModel stored = BackupCodeCredentialModel.create("s-1", "");
        stored.setId("cred-1");
        CredentialModel updated = MarkerStatus.refreshed(stored, USED).orElseThrow();
        assertEquals("cred-1", updated.getId());
        assertEquals(stored.getCreatedDate(), updated.getCreatedDate());
        assertFalse(updated.getUserLabel().equals(stored.getUserLabel()));
    }

    @Test
    void anOverlongLabelIsCutToTheColumn() {
        BridgeStatus odd = new BridgeStatus(true, 1, 2, false, true, true, "x".repeat(300), "temporary", "", "", "");
        assertEquals(MarkerStatus.MAX_LABEL, MarkerStatus.label(odd).length());
    }
}
