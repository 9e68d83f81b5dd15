package io.github.backupcodes.keycloak.bridge;

import io.github.backupcodes.keycloak.contract.Contract;
import io.github.backupcodes.keycloak.setup.BackupCodeSetupActionFactory;

import java.util.Map;

/**
 * The realm's bridge time budget, from the {@code backup-code-setup} required-action config: the one config a realm
 * has once and the one Keycloak validates when it is saved ({@code BackupCodeSetupActionFactory.validateConfig}
 * refuses a value out of range, naming the field). It covers every bridge call of a request, see {@link BridgeAccess}.
 *
 * <p>A realm import does not run that validation, so a stray value read here still counts as unset instead of
 * breaking logins. The former {@code connect_timeout_ms} and {@code read_timeout_ms} are ignored: separate per-call
 * timeouts added up to tens of seconds per login step when the bridge hung.
 */
final class RealmBudget {

    private RealmBudget() {
    }

    /** The realm's budget from its required-action config, else the server's. */
    static int millis(Map<String, String> requiredActionConfig, int serverDefault) {
        String raw = requiredActionConfig == null ? null : requiredActionConfig.get(Contract.CONFIG_BRIDGE_BUDGET_MS);
        if (raw == null || raw.isBlank()) {
            return serverDefault;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            return value < CallBudget.MIN_MILLIS || value > CallBudget.MAX_MILLIS ? serverDefault : value;
        } catch (NumberFormatException e) {
            return serverDefault;
        }
    }
}
