package io.github.backupcodes.keycloak.login;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import org.junit.jupiter.api.Test;
import org.keycloak.authentication.AuthenticationFlowContext;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How the code step answers a refused code. A {@code busy} answer from the bridge (the user's other attempts are still
 * being checked) must show "try again" with a plain challenge: {@code failureChallenge} would count a failed login for
 * Keycloak's brute-force detection, and a user's own codes must never lock them.
 */
class BackupCodeAuthenticatorRefusalTest {

    /** The context methods the step called, by name; any other call would fail the test. */
    private final List<String> calls = new ArrayList<>();
    private final List<String> messages = new ArrayList<>();

    private AuthenticationFlowContext recordingContext() {
        return (AuthenticationFlowContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {AuthenticationFlowContext.class}, (proxy, method, args) -> {
                    calls.add(method.getName());
                    return null;
                });
    }

    @Test
    void busyIsAPlainChallengeThatSaysTryAgain() {
        new CodeFlow(recordingContext(), new BridgeSettings(null, null)).refuse(VerifyOutcome.BUSY, "busy", error -> {
            messages.add(error);
            return null;
        });
        assertEquals(List.of("challenge"), calls);
        assertEquals(List.of(BackupCodeAuthenticator.MSG_BUSY), messages);
    }
}
