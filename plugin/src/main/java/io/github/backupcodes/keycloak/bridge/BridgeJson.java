package io.github.backupcodes.keycloak.bridge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Pure JSON mapping of the bridge's {@code /v1} bodies (docs/design.md), kept apart from HTTP so it is unit-tested.
 *
 * <p>Unknown fields are ignored (the bridge may grow); a body that is not the expected shape is a
 * {@link BridgeUnavailableException}, because acting on a half-understood answer could let someone in.
 */
public final class BridgeJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private BridgeJson() {
    }

    public static BridgeStatus parseStatus(String body) throws BridgeUnavailableException {
        JsonNode root = readObject(body);
        JsonNode lock = root.path("lock");
        return new BridgeStatus(
                requireBoolean(root, "enrolled"),
                root.path("remaining").asInt(0),
                root.path("total").asInt(0),
                root.path("low").asBoolean(false),
                root.path("enroll_required").asBoolean(false),
                lock.isObject() && lock.path("locked").asBoolean(false),
                lock.isObject() ? textOrEmpty(lock, "source") : "",
                lock.isObject() ? textOrEmpty(lock, "kind") : "",
                lock.isObject() ? textOrEmpty(lock, "until") : "",
                textOrEmpty(root, "created_at"),
                textOrEmpty(root, "last_used_at"));
    }

    public static VerifyResult parseVerify(String body) throws BridgeUnavailableException {
        JsonNode root = readObject(body);
        boolean valid = requireBoolean(root, "valid");
        String reason = root.path("reason").asText(valid ? "ok" : "invalid");
        return new VerifyResult(
                valid,
                reason.isBlank() ? (valid ? "ok" : "invalid") : reason,
                root.path("remaining").asInt(-1),
                root.path("low").asBoolean(false),
                root.path("enroll_required").asBoolean(false),
                valid ? textList(root.path("cleared_locks")) : List.of(),
                valid ? "" : textOrEmpty(root, "locked_until"));
    }

    public static IssuedCodes parseIssued(String body) throws BridgeUnavailableException {
        JsonNode root = readObject(body);
        JsonNode codes = root.path("codes");
        if (!codes.isArray() || codes.isEmpty()) {
            throw new BridgeUnavailableException("bridge issued no codes");
        }
        List<String> list = new ArrayList<>(codes.size());
        for (JsonNode code : codes) {
            if (!code.isTextual() || code.asText().isBlank()) {
                throw new BridgeUnavailableException("bridge issued a malformed code list");
            }
            list.add(code.asText());
        }
        return new IssuedCodes(list, root.path("set_id").asText(""), root.path("created_at").asText(""));
    }

    /** The {@code error} machine code of an error body, or "" when the body is not the documented shape. */
    public static String errorCode(String body) {
        try {
            JsonNode root = MAPPER.readTree(body == null ? "" : body);
            return root != null && root.path("error").isTextual() ? root.path("error").asText() : "";
        } catch (JsonProcessingException e) {
            return "";
        }
    }

    /** The {@code message} of a bridge error body; empty when there is none (never the request's own values). */
    public static String errorMessage(String body) {
        try {
            JsonNode root = MAPPER.readTree(body == null ? "" : body);
            return root != null && root.path("message").isTextual() ? root.path("message").asText() : "";
        } catch (JsonProcessingException e) {
            return "";
        }
    }

    public static String verifyBody(String code, String clientIp, String userAgent, String purpose) {
        return verifyBody(code, clientIp, userAgent, purpose, false);
    }

    /** {@code keycloak_locked} is sent only when true: it tells the bridge Keycloak's brute-force lock was active. */
    public static String verifyBody(String code, String clientIp, String userAgent, String purpose, boolean keycloakLocked) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("code", code);
        body.put("client_ip", clientIp == null ? "" : clientIp);
        if (userAgent != null && !userAgent.isBlank()) {
            body.put("user_agent", truncate(userAgent, 512));
        }
        body.put("purpose", purpose);
        if (keycloakLocked) {
            body.put("keycloak_locked", true);
        }
        return body.toString();
    }

    public static DeviceRegistration parseDeviceRegistration(String body) throws BridgeUnavailableException {
        JsonNode root = readObject(body);
        String token = textOrEmpty(root, "token");
        int maxAge = root.path("max_age_seconds").asInt(0);
        if (token.isEmpty() || maxAge <= 0) {
            throw new BridgeUnavailableException("bridge device answer lacks token or max_age_seconds");
        }
        return new DeviceRegistration(textOrEmpty(root, "device_id"), token, textOrEmpty(root, "name"),
                textOrEmpty(root, "expires_at"), maxAge);
    }

    public static DeviceCheck parseDeviceCheck(String body) throws BridgeUnavailableException {
        JsonNode root = readObject(body);
        boolean recognised = requireBoolean(root, "recognised");
        String deviceId = root.path("device_id").isTextual() ? root.path("device_id").asText() : null;
        String reason = textOrEmpty(root, "reason");
        return new DeviceCheck(recognised, deviceId, reason.isEmpty() ? (recognised ? "ok" : "invalid") : reason);
    }

    public static List<Device> parseDevices(String body) throws BridgeUnavailableException {
        JsonNode devices = readObject(body).path("devices");
        if (!devices.isArray()) {
            throw new BridgeUnavailableException("bridge device list lacks 'devices'");
        }
        List<Device> list = new ArrayList<>(devices.size());
        for (JsonNode device : devices) {
            list.add(new Device(textOrEmpty(device, "device_id"), textOrEmpty(device, "name"),
                    textOrEmpty(device, "first_seen"), textOrEmpty(device, "last_seen"), textOrEmpty(device, "last_ip")));
        }
        return list;
    }

    public static int parseForgotten(String body) throws BridgeUnavailableException {
        return readObject(body).path("forgotten").asInt(0);
    }

    public static String deviceBody(String clientIp, String userAgent) {
        ObjectNode body = MAPPER.createObjectNode();
        putClient(body, clientIp, userAgent);
        return body.toString();
    }

    public static String deviceCheckBody(String token, String clientIp, String userAgent) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("token", token);
        putClient(body, clientIp, userAgent);
        return body.toString();
    }

    /** {@code POST .../reset}: the helpdesk reset, with who did it, why, and how the identity was checked. */
    public static String resetBody(String actor, String reason, String identityCheck) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("actor", truncate(actor, 255));
        body.put("reason", truncate(reason, 1000));
        body.put("identity_check", truncate(identityCheck, 1000));
        return body.toString();
    }

    /** {@code POST .../locks/{source}/unlock}: lift a temporary lock for a named admin. */
    public static String unlockBody(String actor, String reason) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("actor", truncate(actor, 255));
        body.put("reason", truncate(reason, 1000));
        return body.toString();
    }

    public static boolean parseCleared(String body) throws BridgeUnavailableException {
        return requireBoolean(readObject(body), "cleared");
    }

    /** The realm-wide unlock's answer ({@code UnlockedAll}): how many users' temporary codes locks were lifted. */
    public static int parseClearedCount(String body) throws BridgeUnavailableException {
        JsonNode node = readObject(body).get("cleared");
        if (node == null || !node.canConvertToInt() || !node.isIntegralNumber()) {
            throw new BridgeUnavailableException("bridge answer lacks integer 'cleared'");
        }
        return node.intValue();
    }

    public static String forgetBody(String actor, String reason) {
        ObjectNode body = MAPPER.createObjectNode();
        if (actor != null && !actor.isBlank()) {
            body.put("actor", actor);
        }
        if (reason != null && !reason.isBlank()) {
            body.put("reason", reason);
        }
        return body.toString();
    }

    /** Only the given fields: PATCH changes just those (a null value in the map clears that field). */
    public static String contactPatchBody(ContactPatch patch) {
        ObjectNode body = MAPPER.createObjectNode();
        patch.fields().forEach((name, value) -> {
            if (value == null) {
                body.putNull(name);
            } else {
                body.put(name, value);
            }
        });
        return body.toString();
    }

    private static void putClient(ObjectNode body, String clientIp, String userAgent) {
        if (clientIp != null && !clientIp.isBlank()) {
            body.put("client_ip", clientIp);
        }
        if (userAgent != null && !userAgent.isBlank()) {
            body.put("user_agent", truncate(userAgent, 512));
        }
    }

    private static String textOrEmpty(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() ? value.asText() : "";
    }

    private static List<String> textList(JsonNode array) {
        if (!array.isArray()) {
            return List.of();
        }
        List<String> out = new ArrayList<>(array.size());
        array.forEach(item -> {
            if (item.isTextual()) {
                out.add(item.asText());
            }
        });
        return out;
    }

    public static String issueBody(String actor, String clientIp, String userAgent) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("actor", actor);
        if (clientIp != null && !clientIp.isBlank()) {
            body.put("client_ip", clientIp);
        }
        if (userAgent != null && !userAgent.isBlank()) {
            body.put("user_agent", truncate(userAgent, 512));
        }
        return body.toString();
    }

    public static String sheetBody(SheetRequest sheet) {
        ObjectNode body = MAPPER.createObjectNode();
        ArrayNode codes = body.putArray("codes");
        sheet.codes().forEach(codes::add);
        body.put("username", sheet.username());
        body.put("realm_display_name", sheet.realmDisplayName());
        if (sheet.createdAt() != null && !sheet.createdAt().isBlank()) {
            body.put("created_at", sheet.createdAt());
        }
        if (sheet.locale() != null && !sheet.locale().isBlank()) {
            body.put("locale", sheet.locale());
        }
        return body.toString();
    }

    private static JsonNode readObject(String body) throws BridgeUnavailableException {
        try {
            JsonNode root = MAPPER.readTree(body == null ? "" : body);
            if (root == null || !root.isObject()) {
                throw new BridgeUnavailableException("bridge answered with a non-object body");
            }
            return root;
        } catch (JsonProcessingException e) {
            // Do not chain the parser exception: its message quotes the body, which may hold codes.
            throw new BridgeUnavailableException("bridge answered with unreadable JSON");
        }
    }

    private static boolean requireBoolean(JsonNode root, String field) throws BridgeUnavailableException {
        JsonNode node = root.get(field);
        if (node == null || !node.isBoolean()) {
            throw new BridgeUnavailableException("bridge answer lacks boolean '" + field + "'");
        }
        return node.booleanValue();
    }

    private static String truncate(String value, int max) {
        return value.length() <= max ? value : value.substring(0, max);
    }
}
