package io.github.backupcodes.keycloak.bridge;

/**
 * The bridge could not give a definitive answer (not configured, unreachable, timeout, 5xx, unreadable body).
 *
 * <p>Callers must fail closed on it: never treat it as "no codes" during login. The message never carries a code or key.
 */
public class BridgeUnavailableException extends Exception {

    private static final long serialVersionUID = 1L;

    public BridgeUnavailableException(String message) {
        super(message);
    }

    public BridgeUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
