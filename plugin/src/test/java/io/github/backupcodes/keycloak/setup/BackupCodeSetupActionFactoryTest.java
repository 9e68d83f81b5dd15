package io.github.backupcodes.keycloak.setup;

import org.junit.jupiter.api.Test;
import org.keycloak.models.RequiredActionConfigModel;
import org.keycloak.userprofile.ValidationException;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What Keycloak's admin API lets a realm admin save as the realm's bridge time budget. */
class BackupCodeSetupActionFactoryTest {

    private final BackupCodeSetupActionFactory factory = new BackupCodeSetupActionFactory();

    private static RequiredActionConfigModel config(Map<String, String> values) {
        RequiredActionConfigModel model = new RequiredActionConfigModel();
        model.setAlias(BackupCodeSetupAction.PROVIDER_ID);
        model.setProviderId(BackupCodeSetupAction.PROVIDER_ID);
        model.setConfig(new HashMap<>(values));
        return model;
    }

    @Test
    void onlyABudgetFrom100To15000MillisecondsOrNoneIsSaved() {
        for (String raw : new String[] {"100", "3000", "15000", ""}) {
            assertDoesNotThrow(() -> factory.validateConfig(null, null, config(Map.of("bridge_budget_ms", raw))), raw);
        }
        for (String raw : new String[] {"99", "15001"}) {
            assertThrows(ValidationException.class,
                    () -> factory.validateConfig(null, null, config(Map.of("bridge_budget_ms", raw))), raw);
        }
    }

    @Test
    void aBudgetOutOfRangeIsRefusedNamingTheFieldAndTheRange() {
        for (String raw : new String[] {"50", "20000", "3 s", "-1"}) {
            ValidationException e = assertThrows(ValidationException.class,
                    () -> factory.validateConfig(null, null, config(Map.of("bridge_budget_ms", raw))), raw);
            assertEquals("bridge_budget_ms", e.getErrors().get(0).getAttribute());
            assertEquals("bridge_budget_ms must be a whole number of milliseconds from 100 to 15000",
                    e.getErrors().get(0).getMessage());
        }
    }
}
