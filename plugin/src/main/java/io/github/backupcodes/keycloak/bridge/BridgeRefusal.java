package io.github.backupcodes.keycloak.bridge;

/**
 * The bridge answered and refused the request's values (HTTP 400/422): unlike {@link BridgeUnavailableException}
 * the bridge is up and stored nothing, and its message is meant for the admin who sent the values.
 */
public class BridgeRefusal extends Exception {

    private final String error;

    public BridgeRefusal(String error, String message) {
        super(message == null || message.isBlank() ? "the backup-codes bridge refused the values" : message,
                null, false, false);
        this.error = error == null ? "" : error;
    }

    /** The bridge's error code, e.g. {@code policy_invalid}. */
    public String error() {
        return error;
    }
}
