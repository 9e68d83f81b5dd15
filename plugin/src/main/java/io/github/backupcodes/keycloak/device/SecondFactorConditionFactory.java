package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.ServerConfig;
import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.Config;
import org.keycloak.authentication.authenticators.conditional.ConditionalAuthenticator;
import org.keycloak.authentication.authenticators.conditional.ConditionalAuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;

import java.util.List;

public class SecondFactorConditionFactory implements ConditionalAuthenticatorFactory {

    public static final String PROVIDER_ID = Contract.CONDITION_ID;

    private static final AuthenticationExecutionModel.Requirement[] REQUIREMENT_CHOICES = {
            AuthenticationExecutionModel.Requirement.REQUIRED,
            AuthenticationExecutionModel.Requirement.DISABLED
    };

    private SecondFactorCondition singleton = new SecondFactorCondition(new BridgeSettings(null, null));

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Condition - second factor needed";
    }

    @Override
    public String getHelpText() {
        return "Matches unless a backup code was already accepted in this login, or the realm remembers devices "
                + "(attribute backupCodes.rememberDeviceDays) and this browser is a remembered device of the user.";
    }

    @Override
    public ConditionalAuthenticator getSingleton() {
        return singleton;
    }

    @Override
    public boolean isConfigurable() {
        return false;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }

    @Override
    public AuthenticationExecutionModel.Requirement[] getRequirementChoices() {
        return REQUIREMENT_CHOICES;
    }

    @Override
    public boolean isUserSetupAllowed() {
        return false;
    }

    @Override
    public void init(Config.Scope config) {
        singleton = new SecondFactorCondition(ServerConfig.load(config));
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }
}
