package io.github.backupcodes.keycloak.bridge;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Body of {@code PATCH .../contact}: only the fields put here are sent, so the bridge leaves the others alone.
 * Blank values are sent as null (clears the field), because Keycloak reports a removed email as "".
 */
public final class ContactPatch {

    public static final String EMAIL = "email";
    public static final String PHONE = "phone";
    public static final String LOCALE = "locale";
    public static final String DISPLAY_NAME = "display_name";

    private final Map<String, String> fields = new LinkedHashMap<>();

    public ContactPatch email(String value) {
        return put(EMAIL, value);
    }

    public ContactPatch locale(String value) {
        return put(LOCALE, value);
    }

    public ContactPatch displayName(String value) {
        return put(DISPLAY_NAME, value);
    }

    public boolean isEmpty() {
        return fields.isEmpty();
    }

    public Map<String, String> fields() {
        return Collections.unmodifiableMap(fields);
    }

    private ContactPatch put(String name, String value) {
        fields.put(name, value == null || value.isBlank() ? null : value.trim());
        return this;
    }

    @Override
    public String toString() {
        // Addresses are personal data; logs only need to know which fields moved.
        return "ContactPatch" + fields.keySet();
    }
}
