package io.github.backupcodes.keycloak.admin;

import org.keycloak.Token;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.UserModel;
import org.keycloak.representations.AccessToken;
import org.keycloak.representations.JsonWebToken;

/**
 * Who saved the tab, as the bridge's audit names console admins elsewhere ({@code keycloak-admin:<realm>/<username>},
 * the helpdesk's form in event/ConsoleHelpdesk): read from the admin request's bearer token, whose issuer ends in the
 * admin's realm. Null outside an admin request, and the bridge then names its API key.
 */
final class AdminActor {

    private AdminActor() {
    }

    static String of(KeycloakSession session) {
        Token token = session.getContext().getBearerToken();
        if (!(token instanceof JsonWebToken jwt) || jwt.getIssuer() == null) {
            return null;
        }
        String issuer = jwt.getIssuer();
        String realm = issuer.substring(issuer.lastIndexOf('/') + 1);
        UserModel user = session.getContext().getUser();
        String username = user != null ? user.getUsername()
                : jwt instanceof AccessToken access ? access.getPreferredUsername() : null;
        return label(realm, username == null ? jwt.getSubject() : username);
    }

    static String label(String realm, String username) {
        return "keycloak-admin:" + (realm == null || realm.isEmpty() ? "?" : realm) + "/"
                + (username == null ? "?" : username);
    }
}
