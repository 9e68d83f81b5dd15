package io.github.backupcodes.keycloak.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.keycloak.provider.ProviderConfigProperty;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console tab's form: what it sends to the bridge, and how it refuses values (field and range named). */
class PolicyFormTest {

    private static Map<String, List<String>> form(String... overrides) {
        Map<String, List<String>> config = new LinkedHashMap<>();
        config.put("code_count", List.of("10"));
        config.put("code_length", List.of("16"));
        config.put("max_failures", List.of("5"));
        config.put("lockout_seconds", List.of("60"));
        config.put("lockout_max_seconds", List.of("3600"));
        config.put("low_threshold", List.of("3"));
        config.put("reset_mode", List.of("helpdesk"));
        config.put("remember_device_days", List.of("0"));
        config.put("password_reset", List.of("email+code"));
        config.put("tab", List.of("backup-codes"));
        for (int i = 0; i < overrides.length; i += 2) {
            config.put(overrides[i], List.of(overrides[i + 1]));
        }
        return config;
    }

    private static String refusal(String... overrides) {
        return assertThrows(PolicyForm.Invalid.class, () -> PolicyForm.parse(form(overrides))).getMessage();
    }

    @Test
    void validFormBecomesTheBridgesPolicyJsonAndTheRememberDays() throws Exception {
        PolicyForm.Values values = PolicyForm.parse(form("max_failures", " 7 ", "remember_device_days", "30"));
        assertEquals("{\"code_count\":10,\"code_length\":16,\"max_failures\":7,\"lockout_seconds\":60,"
                + "\"lockout_max_seconds\":3600,\"low_threshold\":3,\"reset_mode\":\"helpdesk\"}",
                PolicyForm.json(values.policy()));
        assertEquals(30, values.rememberDeviceDays());
    }

    @Test
    void outOfRangeValueIsRefusedNamingTheFieldAndTheRange() {
        assertEquals("Max failures (max_failures) must be a whole number between 1 and 100 (got 1000)",
                refusal("max_failures", "1000"));
    }

    @Test
    void nonNumberIsRefusedNamingTheFieldAndTheRange() {
        assertEquals("Code length (code_length) must be a whole number between 15 and 32", refusal("code_length", "1e3"));
        assertEquals("Codes per set (code_count) must be a whole number between 1 and 50", refusal("code_count", ""));
    }

    @Test
    void rememberDaysAreCappedAtTheContractsDays() {
        assertTrue(refusal("remember_device_days", "401").contains("between 0 and 400"));
    }

    @Test
    void longestLockoutShorterThanTheFirstIsRefused() {
        assertEquals("Longest lockout (seconds) (lockout_max_seconds) must be at least First lockout (seconds) "
                + "(lockout_seconds) (60)", refusal("lockout_max_seconds", "30"));
    }

    @Test
    void lowThresholdMustStayBelowCodesPerSet() {
        assertEquals("Low-codes threshold (low_threshold) must be between 0 and Codes per set (code_count) - 1 (4)",
                refusal("code_count", "5", "low_threshold", "5"));
    }

    @Test
    void unknownResetModeIsRefusedListingTheModes() {
        assertEquals("Lost codes (reset_mode) must be one of helpdesk, self_service", refusal("reset_mode", "anyone"));
    }

    @Test
    void bridgePolicyBecomesFormValues() throws Exception {
        Map<String, List<String>> config = PolicyForm.fromBridge("{\"code_count\":12,\"code_length\":20,"
                + "\"max_failures\":9,\"lockout_seconds\":30,\"lockout_max_seconds\":600,\"low_threshold\":2,"
                + "\"reset_mode\":\"self_service\"}", 14, "code-only");
        assertEquals(List.of("9"), config.get("max_failures"));
        assertEquals(List.of("self_service"), config.get("reset_mode"));
        assertEquals(List.of("14"), config.get("remember_device_days"));
        assertEquals(List.of("code-only"), config.get("password_reset"));
    }

    @Test
    void unreadableBridgePolicyIsRefused() {
        assertThrows(PolicyForm.Invalid.class, () -> PolicyForm.fromBridge("{\"code_count\":12}", 0, "email+code"));
        assertThrows(PolicyForm.Invalid.class, () -> PolicyForm.fromBridge("<html>", 0, "email+code"));
    }

    @Test
    void rowDiffersFromTheBridgeOnlyInTheFormsOwnFields() throws Exception {
        Map<String, List<String>> bridge = PolicyForm.fromBridge("{\"code_count\":10,\"code_length\":16,"
                + "\"max_failures\":5,\"lockout_seconds\":60,\"lockout_max_seconds\":3600,\"low_threshold\":3,"
                + "\"reset_mode\":\"helpdesk\"}", 0, "email+code");
        assertFalse(PolicyForm.differs(form(), bridge));
        assertTrue(PolicyForm.differs(form("max_failures", "8"), bridge));
        assertTrue(PolicyForm.differs(form("password_reset", "code-only"), bridge));
    }

    @Test
    void passwordResetIsAChoiceOfTheTwoModesAndNotABridgeField() throws Exception {
        ProviderConfigProperty reset = PolicyForm.properties().stream()
                .filter(p -> p.getName().equals("password_reset")).findFirst().orElseThrow();
        assertFalse(reset.isReadOnly());
        assertEquals(ProviderConfigProperty.LIST_TYPE, reset.getType());
        assertEquals(List.of("email+code", "code-only"), reset.getOptions());
        PolicyForm.Values values = PolicyForm.parse(form("password_reset", "code-only"));
        assertEquals("code-only", values.passwordReset());
        assertFalse(values.policy().has("password_reset"));
    }

    @Test
    void theBodyNamesTheAdminAsTheBridgesPolicyUpdateSchemaHasIt() throws Exception {
        PolicyForm.Values values = PolicyForm.parse(form("max_failures", "7"));
        String body = PolicyForm.json(values.policy(), "keycloak-admin:acme/alice");
        assertEquals(tree(fixture("PolicyUpdate/from-the-tab")), tree(body));
    }

    @Test
    void theActorIsCutToTheBridgesLimitWithoutControlCharacters() throws Exception {
        PolicyForm.Values values = PolicyForm.parse(form());
        String actor = tree(PolicyForm.json(values.policy(), "keycloak-admin:acme/al\nice" + "x".repeat(300)))
                .path("actor").asText();
        assertEquals(255, actor.length());
        assertTrue(actor.startsWith("keycloak-admin:acme/al?ice"));
    }

    @Test
    void theActorNeverEndsInHalfACharacter() throws Exception {
        String actor = "x".repeat(254) + "\uD83D\uDE00";
        String sent = tree(PolicyForm.json(PolicyForm.parse(form()).policy(), actor)).path("actor").asText();
        assertEquals("x".repeat(254), sent);
    }

    private static JsonNode tree(String json) throws Exception {
        return new ObjectMapper().readTree(json);
    }

    private static String fixture(String name) throws Exception {
        try (InputStream in = PolicyFormTest.class.getResourceAsStream("/bridge-fixtures/" + name + ".json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void everyFieldHasALabelAndNamesItsStore() {
        PolicyForm.properties().forEach(p -> {
            assertFalse(p.getLabel().equals(p.getName()), p.getName());
            assertTrue(p.getHelpText().contains("Stored in"), p.getName());
        });
        assertEquals(PolicyForm.fieldNames(), PolicyForm.properties().stream().map(p -> p.getName()).toList());
    }
}
