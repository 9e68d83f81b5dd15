package io.github.backupcodes.keycloak.setup;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.CallBudget;
import io.github.backupcodes.keycloak.bridge.ServerConfig;
import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.Config;
import org.keycloak.authentication.RequiredActionFactory;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RequiredActionConfigModel;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.userprofile.ValidationException;
import org.keycloak.validate.ValidationError;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

public class BackupCodeSetupActionFactory implements RequiredActionFactory {

    private static final List<ProviderConfigProperty> CONFIG = ProviderConfigurationBuilder.create()
            .property().name(BackupCodeSetupAction.CONFIG_ENROLL_AFTER_OTP).label("Require backup codes for OTP users")
            .helpText("When on, a user who has an OTP authenticator but no backup codes is asked to set them up at login (right after OTP setup, too).")
            .type(ProviderConfigProperty.BOOLEAN_TYPE).defaultValue(true).add()
            .property().name(Contract.CONFIG_BRIDGE_BUDGET_MS).label("Bridge time budget (ms)")
            .helpText("The most time all backup-codes bridge calls of one page may take together, in this whole realm "
                    + "(sign-in, setup, devices). When the bridge does not answer in time the user sees 'temporarily "
                    + "unavailable', never a pass. " + CallBudget.MIN_MILLIS + " to " + CallBudget.MAX_MILLIS
                    + "; empty = the server's default (" + CallBudget.DEFAULT_MILLIS + " unless set at start-up).")
            .type(ProviderConfigProperty.INTEGER_TYPE).add()
            .build();

    private BridgeSettings settings = new BridgeSettings(null, null);

    @Override
    public String getId() {
        return BackupCodeSetupAction.PROVIDER_ID;
    }

    @Override
    public String getDisplayText() {
        return "Set up backup codes";
    }

    @Override
    public boolean isOneTimeAction() {
        return true;
    }

    @Override
    public List<ProviderConfigProperty> getConfigMetadata() {
        return Stream.concat(CONFIG.stream(), RequiredActionFactory.super.getConfigMetadata().stream()).toList();
    }

    /**
     * Refuses, when the realm's config is saved, a time budget Keycloak could not honour or that would let a hung
     * bridge hold logins for too long; the admin sees the field and the range. Keycloak's own checks follow.
     */
    @Override
    public void validateConfig(KeycloakSession session, RealmModel realm, RequiredActionConfigModel config) {
        checkEnrollAfterOtp(config.getConfig());
        checkBudget(config.getConfig());
        RequiredActionFactory.super.validateConfig(session, realm, config);
    }

    /** "true" or "false" (or unset = true): anything else used to count as "on" without a word to the admin. */
    static void checkEnrollAfterOtp(Map<String, String> config) {
        String raw = config == null ? null : config.get(BackupCodeSetupAction.CONFIG_ENROLL_AFTER_OTP);
        if (raw == null || raw.isBlank() || "true".equalsIgnoreCase(raw.trim()) || "false".equalsIgnoreCase(raw.trim())) {
            return;
        }
        throw new ValidationException(new ValidationError(BackupCodeSetupAction.PROVIDER_ID,
                BackupCodeSetupAction.CONFIG_ENROLL_AFTER_OTP,
                BackupCodeSetupAction.CONFIG_ENROLL_AFTER_OTP + " must be true or false"));
    }

    static void checkBudget(Map<String, String> config) {
        String raw = config == null ? null : config.get(Contract.CONFIG_BRIDGE_BUDGET_MS);
        if (raw == null || raw.isBlank()) {
            return;
        }
        try {
            CallBudget.parseMillis(Contract.CONFIG_BRIDGE_BUDGET_MS, raw);
        } catch (IllegalArgumentException e) {
            throw new ValidationException(new ValidationError(BackupCodeSetupAction.PROVIDER_ID, Contract.CONFIG_BRIDGE_BUDGET_MS, e.getMessage()));
        }
    }

    @Override
    public RequiredActionProvider create(KeycloakSession session) {
        return new BackupCodeSetupAction(settings);
    }

    @Override
    public void init(Config.Scope config) {
        settings = ServerConfig.load(config);
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }
}
