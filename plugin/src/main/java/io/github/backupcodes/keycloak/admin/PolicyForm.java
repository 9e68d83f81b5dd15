package io.github.backupcodes.keycloak.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The "Backup codes" tab's form and its mapping: the console's form values (strings) to the bridge's policy JSON and
 * the remember-device days, and the bridge's policy back to form values. Pure, so the validation the admin sees is
 * tested without Keycloak: every refusal names the field as the console labels it, its policy name, and the range.
 *
 * <p>Field names are the bridge's own ({@code code_count}, ...; limits in contract.json {@code policyLimits}), plus
 * {@link #REMEMBER_DEVICE_DAYS}, which Keycloak keeps in the realm attribute {@code backupCodes.rememberDeviceDays}
 * (the same meaning {@code realm install --remember-devices DAYS} gives it: 0 always asks for the second factor).
 */
public final class PolicyForm {

    public static final String RESET_MODE = "reset_mode";
    public static final String REMEMBER_DEVICE_DAYS = "remember_device_days";
    /**
     * The realm's password-reset mode: the shape of its reset-credentials flow (not a bridge field). Saving another
     * mode switches the flow realm install made ({@link ResetFlowSwitch}); {@code realm install --reset-mode} does
     * the same from the shell.
     */
    public static final String PASSWORD_RESET = "password_reset";

    /** The bridge's limit on an actor (openapi.json, PolicyUpdate.actor). */
    static final int ACTOR_MAX = 255;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static final Map<String, String[]> LABELS = labels();

    private PolicyForm() {
    }

    /** A value the admin entered is out of range or not a number; the message is shown as the console's error. */
    public static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * What a valid form writes: the bridge's policy fields (JSON), the realm's remember-device days and the password
     * reset mode asked for (as typed: {@link ResetFlowSwitch} checks it against the realm's flow).
     */
    public record Values(ObjectNode policy, int rememberDeviceDays, String passwordReset) {
    }

    private static Map<String, String[]> labels() {
        Map<String, String[]> labels = new LinkedHashMap<>();
        labels.put("code_count", new String[]{"Codes per set", "How many codes a new set has."});
        labels.put("code_length", new String[]{"Code length",
                "Characters per code; (length - 2) x 5 secret bits, so at least 64 bits."});
        labels.put("max_failures", new String[]{"Max failures",
                "Wrong codes in a row before the user's codes are locked."});
        labels.put("lockout_seconds", new String[]{"First lockout (seconds)",
                "How long the first lock lasts; each further lock doubles it."});
        labels.put("lockout_max_seconds", new String[]{"Longest lockout (seconds)",
                "The doubling stops here; must be at least the first lockout."});
        labels.put("low_threshold", new String[]{"Low-codes threshold",
                "At this many unused codes or fewer the user is told at sign-in and mailed; below codes per set."});
        return labels;
    }

    /** The tab's fields in the order the console shows them. */
    public static List<ProviderConfigProperty> properties() {
        ProviderConfigurationBuilder builder = ProviderConfigurationBuilder.create();
        Contract.POLICY_LIMITS.forEach((name, range) -> {
            String[] label = LABELS.getOrDefault(name, new String[]{name, ""});
            builder.property().name(name).label(label[0])
                    .helpText(label[1] + " Allowed: " + range[0] + " to " + range[1] + ". Stored in the bridge.")
                    .type(ProviderConfigProperty.STRING_TYPE).add();
        });
        builder.property().name(RESET_MODE).label("Lost codes")
                .helpText("helpdesk: a user who lost the codes is re-enrolled by the helpdesk (identity check, audit); "
                        + "self_service: a signed-in user may regenerate their own set. Stored in the bridge.")
                .type(ProviderConfigProperty.LIST_TYPE).options(Contract.POLICY_RESET_MODES).add();
        builder.property().name(REMEMBER_DEVICE_DAYS).label("Remember device (days)")
                .helpText("0: always ask for the second factor. Days > 0: a browser that passed it is not asked again "
                        + "for this many days. Allowed: 0 to " + Contract.REMEMBER_DEVICE_MAX_DAYS
                        + ". Stored in the realm attribute " + Contract.ATTR_REMEMBER_DEVICE_DAYS + ".")
                .type(ProviderConfigProperty.STRING_TYPE).add();
        List<ProviderConfigProperty> properties = new ArrayList<>(builder.build());
        ProviderConfigProperty reset = new ProviderConfigProperty(PASSWORD_RESET, "Password reset",
                Contract.RESET_EMAIL_AND_CODE + ": the email link, then a backup code (two factors); "
                        + Contract.RESET_CODE_ONLY + ": a backup code or the email link (one factor). Stored in the "
                        + "realm's reset-credentials flow, which realm install must have set up (as realm install "
                        + "--reset-mode).",
                ProviderConfigProperty.LIST_TYPE, null);
        reset.setOptions(List.of(Contract.RESET_EMAIL_AND_CODE, Contract.RESET_CODE_ONLY));
        properties.add(reset);
        return properties;
    }

    /**
     * The form's values, checked against the contract's ranges and the cross-field rules the bridge applies too, so a
     * refusal is answered without a bridge call. Empty fields are refused: the tab always shows every value.
     */
    public static Values parse(Map<String, List<String>> config) throws Invalid {
        ObjectNode policy = MAPPER.createObjectNode();
        Map<String, Integer> numbers = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> field : Contract.POLICY_LIMITS.entrySet()) {
            int value = number(config, field.getKey(), field.getValue()[0], field.getValue()[1]);
            numbers.put(field.getKey(), value);
            policy.put(field.getKey(), value);
        }
        if (numbers.get("lockout_max_seconds") < numbers.get("lockout_seconds")) {
            throw new Invalid(describe("lockout_max_seconds") + " must be at least "
                    + describe("lockout_seconds") + " (" + numbers.get("lockout_seconds") + ")");
        }
        if (numbers.get("low_threshold") >= numbers.get("code_count")) {
            throw new Invalid(describe("low_threshold") + " must be between 0 and "
                    + describe("code_count") + " - 1 (" + (numbers.get("code_count") - 1) + ")");
        }
        String mode = single(config, RESET_MODE);
        if (!Contract.POLICY_RESET_MODES.contains(mode)) {
            throw new Invalid("Lost codes (reset_mode) must be one of " + String.join(", ", Contract.POLICY_RESET_MODES));
        }
        policy.put(RESET_MODE, mode);
        int days = number(config, REMEMBER_DEVICE_DAYS, 0, Contract.REMEMBER_DEVICE_MAX_DAYS);
        return new Values(policy, days, single(config, PASSWORD_RESET));
    }

    /** The form values for a policy the bridge returned (its JSON), the remember-device days and the reset mode. */
    public static Map<String, List<String>> fromBridge(String policyJson, int rememberDeviceDays, String passwordReset)
            throws Invalid {
        JsonNode root;
        try {
            root = MAPPER.readTree(policyJson == null ? "" : policyJson);
        } catch (JsonProcessingException e) {
            throw new Invalid("the backup-codes bridge answered with an unreadable policy");
        }
        if (root == null || !root.isObject()) {
            throw new Invalid("the backup-codes bridge answered with an unreadable policy");
        }
        Map<String, List<String>> config = new LinkedHashMap<>();
        for (String name : Contract.POLICY_LIMITS.keySet()) {
            if (!root.path(name).canConvertToInt()) {
                throw new Invalid("the backup-codes bridge's policy lacks " + name);
            }
            config.put(name, List.of(Integer.toString(root.path(name).asInt())));
        }
        config.put(RESET_MODE, List.of(root.path(RESET_MODE).asText()));
        config.put(REMEMBER_DEVICE_DAYS, List.of(Integer.toString(rememberDeviceDays)));
        config.put(PASSWORD_RESET, List.of(passwordReset));
        return config;
    }

    /** True when a stored row's form values are not those of the bridge (only this form's fields count). */
    public static boolean differs(Map<String, List<String>> row, Map<String, List<String>> bridge) {
        for (String name : fieldNames()) {
            List<String> stored = row == null ? null : row.get(name);
            if (stored == null || !stored.equals(bridge.get(name))) {
                return true;
            }
        }
        return false;
    }

    /** The JSON the bridge's {@code PUT .../policy} takes. */
    public static String json(ObjectNode policy) {
        return policy.toString();
    }

    /**
     * The same with {@code actor}, the admin the bridge's audit names for the change (none: the API key's name). Cut
     * to the bridge's 255 characters, control characters replaced, so no admin's name can make the save fail.
     */
    public static String json(ObjectNode policy, String actor) {
        if (actor == null || actor.isEmpty()) {
            return json(policy);
        }
        String clean = actor.replaceAll("[\\x00-\\x1f\\x7f]", "?");
        ObjectNode body = policy.deepCopy();
        int end = Math.min(clean.length(), ACTOR_MAX);
        if (end < clean.length() && Character.isHighSurrogate(clean.charAt(end - 1))) {
            end--; // never half a character: the bridge refuses a lone surrogate
        }
        body.put("actor", clean.substring(0, end));
        return body.toString();
    }

    /** The names of every field this form owns (everything else in a component's config is the console's). */
    public static List<String> fieldNames() {
        List<String> names = new ArrayList<>(Contract.POLICY_LIMITS.keySet());
        names.add(RESET_MODE);
        names.add(REMEMBER_DEVICE_DAYS);
        names.add(PASSWORD_RESET);
        return names;
    }

    private static int number(Map<String, List<String>> config, String name, int min, int max) throws Invalid {
        String raw = single(config, name).trim();
        String range = "must be a whole number between " + min + " and " + max;
        if (raw.isEmpty() || raw.length() > 10 || !raw.matches("-?\\d+")) {
            throw new Invalid(describe(name) + " " + range);
        }
        long value = Long.parseLong(raw);
        if (value < min || value > max) {
            throw new Invalid(describe(name) + " " + range + " (got " + value + ")");
        }
        return (int) value;
    }

    private static String single(Map<String, List<String>> config, String name) {
        List<String> values = config == null ? null : config.get(name);
        return values == null || values.isEmpty() || values.get(0) == null ? "" : values.get(0);
    }

    private static String describe(String name) {
        if (REMEMBER_DEVICE_DAYS.equals(name)) {
            return "Remember device (days) (" + name + ")";
        }
        String[] label = LABELS.get(name);
        return (label == null ? name : label[0]) + " (" + name + ")";
    }
}
