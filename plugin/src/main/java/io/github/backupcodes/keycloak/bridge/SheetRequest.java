package io.github.backupcodes.keycloak.bridge;

import java.util.List;

/** Body of {@code POST /v1/sheets/{pdf|txt}}: the bridge renders, the provider only relays the bytes. */
public record SheetRequest(List<String> codes, String username, String realmDisplayName, String createdAt, String locale) {

    public SheetRequest {
        codes = List.copyOf(codes);
    }

    @Override
    public String toString() {
        return "SheetRequest[count=" + codes.size() + ", locale=" + locale + "]";
    }
}
