package io.github.backupcodes.keycloak.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The names and limits the provider shares with the bridge and the login theme, read once from {@code contract.json}:
 * the bridge's own file ({@code bridge/contract.json}), packed into this JAR by the build, so neither side keeps a
 * copy that could drift (docs/design.md, "One contract"). A JAR without it fails when Keycloak loads our factories.
 */
public final class Contract {

    private static final JsonNode ROOT = load();

    public static final String AUTHENTICATOR_ID = text("providers", "authenticator");
    public static final String CONDITION_ID = text("providers", "condition");
    public static final String REMEMBER_DEVICE_ID = text("providers", "rememberDevice");
    public static final String PASSWORD_FORM_ID = text("providers", "passwordForm");
    public static final String SETUP_ACTION_ID = text("providers", "setupAction");
    public static final String DEVICES_ACTION_ID = text("providers", "devicesAction");
    public static final String CREDENTIAL_TYPE = text("providers", "credentialType");
    public static final String CREDENTIAL_PROVIDER_ID = text("providers", "credentialProvider");
    public static final String EVENT_LISTENER_ID = text("providers", "eventListener");
    /** The Realm settings tab's provider id, which the admin console also shows as the tab's title. */
    public static final String ADMIN_TAB_ID = text("providers", "adminTab");

    /** The reset-credentials flow copy {@code realm install} makes, and its two shapes ({@code --reset-mode}). */
    public static final String RESET_FLOW_ALIAS = text("resetFlow", "alias");
    public static final String RESET_EMAIL_AND_CODE = text("resetFlow", "emailAndCode");
    public static final String RESET_CODE_ONLY = text("resetFlow", "codeOnly");
    /** The alias of the backup-code sub-flow in each shape, by mode name (the console tab switches between them). */
    public static final Map<String, String> RESET_STEP_ALIAS = Map.of(
            RESET_EMAIL_AND_CODE, text("resetFlow", "emailAndCodeStep"),
            RESET_CODE_ONLY, text("resetFlow", "codeOnlyStep"));
    /** Keycloak's 'Send Reset Email' step: at the top level before our sub-flow, or inside it (see the shapes). */
    public static final String RESET_EMAIL_ID = text("resetFlow", "emailStep");
    /**
     * What realm install builds in each mode, by mode name: the console tab recognises exactly these and switches
     * between them, so the installer and the tab cannot disagree on a shape.
     */
    public static final Map<String, ResetShape> RESET_SHAPES = Map.of(
            RESET_EMAIL_AND_CODE, resetShape("emailAndCode"),
            RESET_CODE_ONLY, resetShape("codeOnly"));

    public static final String ATTR_REMEMBER_DEVICE_DAYS = text("realmAttributes", "rememberDeviceDays");
    public static final String CONFIG_ENROLL_AFTER_OTP = text("requiredActionConfig", "enrollAfterOtp");
    public static final String CONFIG_BRIDGE_BUDGET_MS = text("requiredActionConfig", "bridgeBudgetMs");

    /** Set to "true" once a backup code was accepted in this authentication session, in any flow. */
    public static final String NOTE_PASSED = text("authNotes", "passed");
    /** Set to "true" when the remember-device cookie was recognised by the bridge for this user. */
    public static final String NOTE_DEVICE_RECOGNISED = text("authNotes", "deviceRecognised");

    public static final String FIELD_CODE = text("formFields", "code");
    public static final String FIELD_TRY_AGAIN = text("formFields", "tryAgain");
    public static final String FIELD_LOW_CHOICE = text("formFields", "lowChoice");
    public static final String FIELD_CONFIRM = text("formFields", "confirm");
    public static final String FIELD_GENERATE = text("formFields", "generate");
    public static final String FIELD_DOWNLOAD = text("formFields", "download");
    public static final String FIELD_FORGET_ALL = text("formFields", "forgetAll");
    public static final String LOW_CHOICE_REGENERATE = ROOT.path("lowChoiceRegenerate").asText();

    public static final String TEMPLATE_LOGIN = text("templates", "login");
    public static final String TEMPLATE_LOW = text("templates", "low");
    public static final String TEMPLATE_UNAVAILABLE = text("templates", "unavailable");
    public static final String TEMPLATE_SETUP = text("templates", "setup");
    public static final String TEMPLATE_DEVICES = text("templates", "devices");

    public static final String DEVICE_COOKIE = ROOT.path("deviceCookie").asText();

    /** Longest typed code the provider sends to the bridge (the bridge's normaliser has the same cap). */
    public static final int CODE_INPUT_MAX_LENGTH = ROOT.path("limits").path("codeInputMaxLength").asInt();
    public static final int REMEMBER_DEVICE_MAX_DAYS = ROOT.path("limits").path("rememberDeviceMaxDays").asInt();

    /** Allowed [min, max] of each numeric bridge policy field, by the bridge's field name, in form order. */
    public static final Map<String, int[]> POLICY_LIMITS = policyLimits();
    public static final List<String> POLICY_RESET_MODES = strings(ROOT.path("policyResetModes"));

    private Contract() {
    }

    /**
     * One mode's shape of the backup-code step: the sub-flow's requirement (a Keycloak requirement name), whether the
     * email step stays at the top level before it, and the sub-flow's children in order.
     */
    public record ResetShape(String requirement, boolean emailAtTopLevel, List<ResetChild> children) {
    }

    /** A child of the backup-code sub-flow: its provider id and requirement (a Keycloak requirement name). */
    public record ResetChild(String providerId, String requirement) {
    }

    private static JsonNode load() {
        try (InputStream in = Contract.class.getResourceAsStream("contract.json")) {
            if (in == null) {
                throw new IllegalStateException("contract.json is missing from the provider JAR");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("contract.json is unreadable", e);
        }
    }

    private static Map<String, int[]> policyLimits() {
        Map<String, int[]> limits = new LinkedHashMap<>();
        ROOT.path("policyLimits").fields().forEachRemaining(entry -> {
            if (entry.getValue().isArray()) {
                limits.put(entry.getKey(), new int[]{entry.getValue().get(0).asInt(), entry.getValue().get(1).asInt()});
            }
        });
        if (limits.isEmpty()) {
            throw new IllegalStateException("contract.json lacks policyLimits");
        }
        return Collections.unmodifiableMap(limits);
    }

    private static ResetShape resetShape(String key) {
        JsonNode shape = ROOT.path("resetFlow").path("shapes").path(key);
        List<ResetChild> children = new ArrayList<>();
        shape.path("children").forEach(child -> children.add(new ResetChild(child.path(0).asText(), child.path(1).asText())));
        if (!shape.path("requirement").isTextual() || !shape.path("emailAtTopLevel").isBoolean() || children.isEmpty()) {
            throw new IllegalStateException("contract.json lacks resetFlow.shapes." + key);
        }
        return new ResetShape(shape.path("requirement").asText(), shape.path("emailAtTopLevel").asBoolean(),
                List.copyOf(children));
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return List.copyOf(values);
    }

    private static String text(String section, String key) {
        JsonNode value = ROOT.path(section).path(key);
        if (!value.isTextual() || value.asText().isBlank()) {
            throw new IllegalStateException("contract.json lacks " + section + "." + key);
        }
        return value.asText();
    }
}
