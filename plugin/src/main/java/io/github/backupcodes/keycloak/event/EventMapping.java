package io.github.backupcodes.keycloak.event;

import org.keycloak.events.Details;
import org.keycloak.events.EventType;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;
import org.keycloak.models.credential.PasswordCredentialModel;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which Keycloak events the bridge must hear about (docs/design.md, {@code backup-codes} event listener):
 * a changed email goes to the bridge's contact record (so "your email changed" reaches both addresses), and a new
 * password forgets every remembered device (a stolen session cookie's device must ask for the second factor again).
 */
final class EventMapping {

    public static final String REASON_PASSWORD_RESET = "password_reset";

    private static final Pattern USER_PATH = Pattern.compile("users/([^/]+)");
    private static final Pattern USER_RESET_PASSWORD_PATH = Pattern.compile("users/([^/]+)/reset-password");
    private static final Pattern USER_CREDENTIAL_PATH = Pattern.compile("users/([^/]+)/credentials/[^/]+");
    private static final Pattern BRUTE_FORCE_USER_PATH = Pattern.compile("attack-detection/brute-force/users/([^/]+)");
    private static final Pattern BRUTE_FORCE_ALL_USERS_PATH = Pattern.compile("attack-detection/brute-force/users/?");

    private EventMapping() {
    }

    public static Optional<BridgeCall> forEvent(EventType type, String userId, Map<String, String> details) {
        if (type == null || userId == null || userId.isBlank()) {
            return Optional.empty();
        }
        Map<String, String> safe = details == null ? Map.of() : details;
        return switch (type) {
            case UPDATE_EMAIL, UPDATE_PROFILE -> emailChange(userId, safe);
            case UPDATE_PASSWORD, RESET_PASSWORD -> Optional.of(new BridgeCall.ForgetDevices(userId, REASON_PASSWORD_RESET));
            // 26.x sends UPDATE_CREDENTIAL next to the deprecated UPDATE_PASSWORD; 27 may send only the former.
            case UPDATE_CREDENTIAL -> PasswordCredentialModel.TYPE.equals(safe.get(Details.CREDENTIAL_TYPE))
                    ? Optional.of(new BridgeCall.ForgetDevices(userId, REASON_PASSWORD_RESET))
                    : Optional.empty();
            default -> Optional.empty();
        };
    }

    /** Admin console / REST: a user update refreshes the email; setting a new password forgets the devices. */
    public static Optional<BridgeCall> forAdminEvent(OperationType operation, ResourceType resource, String resourcePath) {
        return forAdminEvent(operation, resource, resourcePath, null, null);
    }

    /**
     * As {@link #forAdminEvent(OperationType, ResourceType, String)}, plus what needs the acting admin (the admin
     * event's auth details): a deleted credential (Keycloak's {@code DELETE users/{id}/credentials/{id}} sends
     * ACTION) may be the helpdesk reset, "unlock user" ({@code DELETE attack-detection/brute-force/users/{id}})
     * lifts the bridge's temporary codes lock too, and "unlock all users" ({@code DELETE
     * attack-detection/brute-force/users}) every temporary codes lock of the realm.
     */
    public static Optional<BridgeCall> forAdminEvent(OperationType operation, ResourceType resource, String resourcePath,
                                                     String adminRealmId, String adminUserId) {
        if (operation == null || resourcePath == null) {
            return Optional.empty();
        }
        if (resource == ResourceType.USER_LOGIN_FAILURE && operation == OperationType.DELETE) {
            return unlock(resourcePath, adminRealmId, adminUserId);
        }
        if (resource != ResourceType.USER) {
            return Optional.empty();
        }
        var credential = USER_CREDENTIAL_PATH.matcher(resourcePath);
        if (operation == OperationType.ACTION && credential.matches()) {
            return Optional.of(new BridgeCall.HelpdeskReset(credential.group(1), adminRealmId, adminUserId));
        }
        var user = USER_PATH.matcher(resourcePath);
        if (operation == OperationType.UPDATE && user.matches()) {
            return Optional.of(new BridgeCall.RefreshEmail(user.group(1)));
        }
        var reset = USER_RESET_PASSWORD_PATH.matcher(resourcePath);
        if (operation == OperationType.ACTION && reset.matches()) {
            return Optional.of(new BridgeCall.ForgetDevices(reset.group(1), REASON_PASSWORD_RESET));
        }
        return Optional.empty();
    }

    /** "Unlock user" ({@code users/{id}}) lifts that user's codes lock; "unlock all users" ({@code users}) the realm's. */
    private static Optional<BridgeCall> unlock(String resourcePath, String adminRealmId, String adminUserId) {
        var one = BRUTE_FORCE_USER_PATH.matcher(resourcePath);
        if (one.matches()) {
            return Optional.of(new BridgeCall.UnlockCodes(one.group(1), adminRealmId, adminUserId));
        }
        if (BRUTE_FORCE_ALL_USERS_PATH.matcher(resourcePath).matches()) {
            return Optional.of(new BridgeCall.UnlockAllCodes(adminRealmId, adminUserId));
        }
        return Optional.empty();
    }

    /** UPDATE_PROFILE carries previous_email/updated_email only when the email changed; UPDATE_EMAIL always does. */
    private static Optional<BridgeCall> emailChange(String userId, Map<String, String> details) {
        if (!details.containsKey(Details.UPDATED_EMAIL)) {
            return Optional.empty();
        }
        String updated = details.get(Details.UPDATED_EMAIL);
        if (details.containsKey(Details.PREVIOUS_EMAIL) && Objects.equals(details.get(Details.PREVIOUS_EMAIL), updated)) {
            return Optional.empty();
        }
        return Optional.of(new BridgeCall.PatchEmail(userId, updated == null || updated.isBlank() ? null : updated));
    }
}
