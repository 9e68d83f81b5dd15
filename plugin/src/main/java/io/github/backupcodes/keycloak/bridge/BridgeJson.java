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
                lock.isObject() && lock.path("locked").asBoolean(false));
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
                root.path("enroll_required").asBoolean(false));
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

    public static String verifyBody(String code, String clientIp, String userAgent, String purpose) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("code", code);
        body.put("client_ip", clientIp == null ? "" : clientIp);
        if (userAgent != null && !userAgent.isBlank()) {
            body.put("user_agent", truncate(userAgent, 512));
        }
        body.put("purpose", purpose);
        return body.toString();
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
