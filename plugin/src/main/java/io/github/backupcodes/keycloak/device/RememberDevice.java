package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.contract.Contract;
import org.keycloak.models.RealmModel;

/**
 * The realm attribute {@code backupCodes.rememberDeviceDays} (set by {@code realm install --remember-devices DAYS}).
 * 0, absent or unreadable means "always ask": device recognition is opt-in per realm.
 */
final class RememberDevice {

    static final String ATTRIBUTE = Contract.ATTR_REMEMBER_DEVICE_DAYS;
    static final int MAX_DAYS = Contract.REMEMBER_DEVICE_MAX_DAYS;

    private RememberDevice() {
    }

    public static int days(String raw) {
        if (raw == null || raw.isBlank()) {
            return 0;
        }
        try {
            int days = Integer.parseInt(raw.trim());
            return days < 0 ? 0 : Math.min(days, MAX_DAYS);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    public static boolean enabled(RealmModel realm) {
        return days(realm.getAttribute(ATTRIBUTE)) > 0;
    }
}
