package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.Device;
import io.github.backupcodes.keycloak.bridge.Timestamps;
import io.github.backupcodes.keycloak.contract.Contract;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import org.keycloak.authentication.InitiatedActionSupport;
import org.keycloak.authentication.RequiredActionContext;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.events.EventType;
import org.keycloak.forms.login.LoginFormsProvider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * "Remembered devices" ({@code kc_action=backup-code-devices}): the user sees which browsers skip the second factor and
 * can forget all of them. Only application-initiated; it never triggers itself at login.
 */
class DevicesAction implements RequiredActionProvider {

    public static final String PROVIDER_ID = Contract.DEVICES_ACTION_ID;
    public static final String TEMPLATE = Contract.TEMPLATE_DEVICES;
    public static final String TEMPLATE_UNAVAILABLE = Contract.TEMPLATE_UNAVAILABLE;

    public static final String FIELD_FORGET_ALL = Contract.FIELD_FORGET_ALL;
    public static final String FIELD_TRY_AGAIN = Contract.FIELD_TRY_AGAIN;
    public static final String MSG_FORGOTTEN = "backupCodeDevicesForgotten";

    static final String REASON_USER = "user";
    private static final String ACTOR = "keycloak-self-service";

    private final BridgeSettings settings;

    public DevicesAction(BridgeSettings settings) {
        this.settings = settings;
    }

    @Override
    public InitiatedActionSupport initiatedActionSupport() {
        return InitiatedActionSupport.SUPPORTED;
    }

    @Override
    public void evaluateTriggers(RequiredActionContext context) {
    }

    @Override
    public void requiredActionChallenge(RequiredActionContext context) {
        context.challenge(devicesPage(context, null));
    }

    @Override
    public void processAction(RequiredActionContext context) {
        MultivaluedMap<String, String> form = context.getHttpRequest().getDecodedFormParameters();
        if (form.containsKey(FIELD_TRY_AGAIN)) {
            requiredActionChallenge(context);
            return;
        }
        if (!form.containsKey(FIELD_FORGET_ALL)) {
            // "Back": nothing to change.
            context.success();
            return;
        }
        int forgotten;
        try {
            forgotten = BridgeAccess.of(context.getSession(), settings, context.getRealm()).client()
                    .forgetDevices(context.getRealm().getName(), context.getUser().getId(), ACTOR, REASON_USER);
        } catch (BridgeUnavailableException e) {
            context.challenge(unavailablePage(context));
            return;
        }
        DeviceRecognition.expireCookie(context.getSession(), context.getRealm());
        context.getEvent().event(EventType.CUSTOM_REQUIRED_ACTION)
                .detail("custom_required_action", PROVIDER_ID)
                .detail("devices_forgotten", String.valueOf(forgotten));
        context.challenge(devicesPage(context, MSG_FORGOTTEN));
    }

    private Response devicesPage(RequiredActionContext context, String info) {
        List<Device> devices;
        try {
            devices = BridgeAccess.of(context.getSession(), settings, context.getRealm()).client()
                    .listDevices(context.getRealm().getName(), context.getUser().getId());
        } catch (BridgeUnavailableException e) {
            return unavailablePage(context);
        }
        Locale locale = context.getSession().getContext().resolveLocale(context.getUser());
        LoginFormsProvider form = context.form().setAttribute("backupCodeDevices", view(devices, locale));
        if (info != null) {
            form.setInfo(info);
        }
        return form.createForm(TEMPLATE);
    }

    /** Plain maps for the template: FreeMarker reads map keys, not record accessors. */
    static List<Map<String, String>> view(List<Device> devices, Locale locale) {
        return devices.stream().map(device -> {
            Map<String, String> row = new LinkedHashMap<>();
            row.put("name", device.name().isBlank() ? "" : device.name());
            row.put("firstSeen", Timestamps.display(device.firstSeen(), locale));
            row.put("firstSeenIso", device.firstSeen());
            row.put("lastSeen", Timestamps.display(device.lastSeen(), locale));
            row.put("lastSeenIso", device.lastSeen());
            return row;
        }).toList();
    }

    private Response unavailablePage(RequiredActionContext context) {
        return context.form().setAttribute("backupCodeDevicesUnavailable", true).createForm(TEMPLATE_UNAVAILABLE);
    }

    @Override
    public void close() {
    }
}
