package io.github.backupcodes.keycloak.bridge;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SheetFormatTest {

    @Test
    void knownFormatsAreAccepted() {
        assertEquals(Optional.of(SheetFormat.PDF), SheetFormat.fromParameter("pdf"));
        assertEquals(Optional.of(SheetFormat.TXT), SheetFormat.fromParameter(" TXT "));
    }

    @Test
    void anythingElseIsIgnored() {
        assertEquals(Optional.empty(), SheetFormat.fromParameter("../../v1/audit"));
        assertEquals(Optional.empty(), SheetFormat.fromParameter(null));
    }
}
