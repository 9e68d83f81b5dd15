package io.github.backupcodes.keycloak.setup;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeClient;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.ContactPatch;
import io.github.backupcodes.keycloak.bridge.IssuedCodes;
import io.github.backupcodes.keycloak.bridge.SheetFormat;
import io.github.backupcodes.keycloak.bridge.SheetRequest;
import io.github.backupcodes.keycloak.bridge.Timestamps;
import io.github.backupcodes.keycloak.contract.Contract;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialModel;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialProvider;
import io.github.backupcodes.keycloak.login.CodeInput;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.keycloak.authentication.CredentialRegistrator;
import org.keycloak.authentication.InitiatedActionSupport;
import org.keycloak.authentication.RequiredActionContext;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.credential.CredentialProvider;
import org.keycloak.events.Details;
import org.keycloak.events.EventType;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.Constants;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.credential.OTPCredentialModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RequiredActionConfigModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.FormMessage;
import org.keycloak.sessions.AuthenticationSessionModel;

import java.util.List;

/**
 * "Set up backup codes": the bridge generates the set (a tampered POST cannot choose codes), the page shows it with
 * download/print/copy, and only "I have saved these codes" + Continue completes the action and stores our marker
 * credential. The plain codes live only in this authentication session's notes while the page is open.
 *
 * <p>Regenerating over a still-usable set from a {@code kc_action} link first asks for confirmation, because the bridge
 * invalidates the old set the moment it issues the new one (from the login's "few codes left" notice the user already
 * chose "Generate new codes now"). Recent authentication for application-initiated use is enforced by Keycloak through
 * {@link #getMaxAuthAge(KeycloakSession)} (required-action config {@code max_auth_age}, default 300 s).
 */
class BackupCodeSetupAction implements RequiredActionProvider, CredentialRegistrator {

    public static final String PROVIDER_ID = Contract.SETUP_ACTION_ID;
    private static final Logger LOG = Logger.getLogger(BackupCodeSetupAction.class);

    public static final String TEMPLATE_SETUP = Contract.TEMPLATE_SETUP;
    public static final String TEMPLATE_UNAVAILABLE = Contract.TEMPLATE_UNAVAILABLE;

    public static final String FIELD_CONFIRM = Contract.FIELD_CONFIRM;
    public static final String FIELD_DOWNLOAD = Contract.FIELD_DOWNLOAD;
    public static final String FIELD_GENERATE = Contract.FIELD_GENERATE;
    public static final String FIELD_TRY_AGAIN = Contract.FIELD_TRY_AGAIN;

    public static final String MSG_CONFIRM_REQUIRED = "backupCodeConfirmRequired";
    public static final String MSG_DOWNLOAD_UNAVAILABLE = "backupCodeDownloadUnavailable";

    /** Header carrying the next form action URL after a download, since the download consumed the page's code. */
    public static final String NEXT_ACTION_HEADER = "X-Backup-Codes-Next-Action";

    public static final String CONFIG_ENROLL_AFTER_OTP = Contract.CONFIG_ENROLL_AFTER_OTP;

    static final String NOTE_CODES = "backupCode.setup.codes";
    static final String NOTE_CREATED_AT = "backupCode.setup.createdAt";
    static final String NOTE_SET_ID = "backupCode.setup.setId";
    static final String NOTE_FIRST_SET = "backupCode.setup.firstSet";

    private static final String ACTOR = "keycloak-self-service";

    /** Event details of the UPDATE_CREDENTIAL a saved set sends: first set or a replacement, and how many codes. */
    public static final String DETAIL_ACTION = "backup_codes_action";
    public static final String DETAIL_COUNT = "backup_codes_count";
    public static final String ACTION_ENROL = "enrol";
    public static final String ACTION_REGENERATE = "regenerate";

    private final BridgeSettings settings;

    public BackupCodeSetupAction(BridgeSettings settings) {
        this.settings = settings;
    }

    @Override
    public InitiatedActionSupport initiatedActionSupport() {
        return InitiatedActionSupport.SUPPORTED;
    }

    @Override
    public String getCredentialType(KeycloakSession session, AuthenticationSessionModel authenticationSession) {
        return BackupCodeCredentialModel.TYPE;
    }

    /**
     * Runs after every login: require setup when the bridge says so (helpdesk reset, set exhausted), and, unless the
     * realm turned it off, when the user has OTP but no backup codes. A bridge outage changes nothing here.
     */
    @Override
    public void evaluateTriggers(RequiredActionContext context) {
        UserModel user = context.getUser();
        BackupCodeCredentialProvider credentials = credentialProvider(context.getSession());
        String misplaced = credentials.markerIfNotLast(user);
        if (misplaced != null) {
            credentials.moveLast(user, misplaced);
        }
        BridgeStatus status;
        try {
            status = BridgeAccess.of(context.getSession(), settings, context.getRealm()).status(user);
        } catch (BridgeUnavailableException e) {
            return;
        }
        boolean wanted = status.needsSetup()
                || (!status.enrolled() && enrollAfterOtp(context.getConfig()) && hasOtp(user));
        if (wanted && !context.getAuthenticationSession().getRequiredActions().contains(PROVIDER_ID)) {
            context.getAuthenticationSession().addRequiredAction(PROVIDER_ID);
        }
    }

    @Override
    public void requiredActionChallenge(RequiredActionContext context) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        var shown = CodeInput.split(authSession.getAuthNote(NOTE_CODES));
        if (shown.isPresent()) {
            context.challenge(setupPage(context, shown.get(), null));
            return;
        }
        BridgeStatus status;
        try {
            status = BridgeAccess.of(context.getSession(), settings, context.getRealm()).status(context.getUser());
        } catch (BridgeUnavailableException e) {
            context.challenge(unavailablePage(context));
            return;
        }
        if (askBeforeReplacing(status, isApplicationInitiated(authSession))) {
            context.challenge(confirmRegeneratePage(context, status.remaining()));
            return;
        }
        issueAndShow(context, !status.enrolled());
    }

    @Override
    public void processAction(RequiredActionContext context) {
        MultivaluedMap<String, String> form = context.getHttpRequest().getDecodedFormParameters();
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        var codes = CodeInput.split(authSession.getAuthNote(NOTE_CODES));

        if (codes.isEmpty()) {
            if (form.containsKey(FIELD_GENERATE)) {
                issueAndShow(context, false);
            } else {
                BridgeAccess.of(context.getSession(), settings, context.getRealm()).forget(context.getUser());
                requiredActionChallenge(context);
            }
            return;
        }

        var download = SheetFormat.fromParameter(form.getFirst(FIELD_DOWNLOAD));
        if (download.isPresent()) {
            serveSheet(context, download.get(), codes.get());
            return;
        }

        if (!"on".equals(form.getFirst(FIELD_CONFIRM))) {
            context.challenge(setupPage(context, codes.get(), MSG_CONFIRM_REQUIRED));
            return;
        }

        BackupCodeCredentialModel marker = BackupCodeCredentialModel.create(
                authSession.getAuthNote(NOTE_SET_ID), authSession.getAuthNote(NOTE_CREATED_AT));
        boolean firstSet = "true".equals(authSession.getAuthNote(NOTE_FIRST_SET));
        credentialProvider(context.getSession()).createCredential(context.getRealm(), context.getUser(), marker);
        clearNotes(authSession);
        BridgeAccess.of(context.getSession(), settings, context.getRealm()).forget(context.getUser());
        refreshMarker(context);
        sendContact(context);

        context.getEvent().event(EventType.UPDATE_CREDENTIAL)
                .detail(Details.CREDENTIAL_TYPE, BackupCodeCredentialModel.TYPE)
                .detail(DETAIL_ACTION, firstSet ? ACTION_ENROL : ACTION_REGENERATE)
                .detail(DETAIL_COUNT, String.valueOf(codes.get().size()));
        context.success();
    }

    /**
     * A first set that was never confirmed is revoked (best effort), so codes nobody saved do not linger in the bridge.
     * A regenerated set stays: the old one is already gone and the user has seen the new one.
     */
    @Override
    public void initiatedActionCanceled(KeycloakSession session, AuthenticationSessionModel authSession) {
        boolean firstSet = "true".equals(authSession.getAuthNote(NOTE_FIRST_SET));
        boolean issued = authSession.getAuthNote(NOTE_CODES) != null;
        clearNotes(authSession);
        if (firstSet && issued && authSession.getAuthenticatedUser() != null) {
            try {
                BridgeAccess.of(session, settings, authSession.getRealm()).client()
                        .revoke(authSession.getRealm().getName(), authSession.getAuthenticatedUser().getId());
            } catch (BridgeUnavailableException e) {
                LOG.warnf("could not revoke an unconfirmed backup-code set for user %s", authSession.getAuthenticatedUser().getId());
            }
        }
    }

    /** The new set on the admin console's Credentials tab (count, creation, no lock): best effort. */
    private void refreshMarker(RequiredActionContext context) {
        try {
            BridgeStatus status = BridgeAccess.of(context.getSession(), settings, context.getRealm()).status(context.getUser());
            credentialProvider(context.getSession()).refresh(context.getUser(), status);
        } catch (BridgeUnavailableException e) {
            LOG.debugf("could not read the new set's status for user %s", context.getUser().getId());
        }
    }

    /**
     * Give the bridge the user's email, language and name, so it can mail about codes without waiting for the LDAP
     * sync. Best effort: the codes are saved either way.
     */
    private void sendContact(RequiredActionContext context) {
        UserModel user = context.getUser();
        try {
            BridgeAccess.of(context.getSession(), settings, context.getRealm()).client()
                    .patchContact(context.getRealm().getName(), user.getId(), contactOf(context.getSession(), user));
        } catch (BridgeUnavailableException e) {
            LOG.debugf("could not send the contact of user %s to the bridge", user.getId());
        }
    }

    /** Only fields Keycloak knows: an empty value must not wipe what the LDAP sync stored. */
    static ContactPatch contactOf(KeycloakSession session, UserModel user) {
        ContactPatch patch = new ContactPatch();
        if (user.getEmail() != null && !user.getEmail().isBlank()) {
            patch.email(user.getEmail());
        }
        String locale = user.getFirstAttribute(UserModel.LOCALE);
        if (locale == null || locale.isBlank()) {
            locale = session.getContext().resolveLocale(user).toLanguageTag();
        }
        patch.locale(locale);
        String name = displayName(user.getFirstName(), user.getLastName());
        if (!name.isEmpty()) {
            patch.displayName(name);
        }
        return patch;
    }

    static String displayName(String first, String last) {
        String joined = ((first == null ? "" : first.trim()) + " " + (last == null ? "" : last.trim())).trim();
        return joined.replaceAll("\\s+", " ");
    }

    private void issueAndShow(RequiredActionContext context, boolean firstSet) {
        IssuedCodes issued;
        try {
            BridgeClient client = BridgeAccess.of(context.getSession(), settings, context.getRealm()).client();
            issued = client.issue(context.getRealm().getName(), context.getUser().getId(), ACTOR,
                    context.getConnection().getRemoteAddr(),
                    context.getHttpRequest().getHttpHeaders().getHeaderString("User-Agent"));
        } catch (BridgeUnavailableException e) {
            context.challenge(unavailablePage(context));
            return;
        } finally {
            BridgeAccess.of(context.getSession(), settings, context.getRealm()).forget(context.getUser());
        }
        List<String> codes = CodeInput.formatAll(issued.codes());
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        authSession.setAuthNote(NOTE_CODES, CodeInput.join(codes));
        authSession.setAuthNote(NOTE_CREATED_AT, issued.createdAt());
        authSession.setAuthNote(NOTE_SET_ID, issued.setId());
        authSession.setAuthNote(NOTE_FIRST_SET, String.valueOf(firstSet));
        context.challenge(setupPage(context, codes, null));
    }

    private void serveSheet(RequiredActionContext context, SheetFormat format, List<String> codes) {
        RealmModel realm = context.getRealm();
        String realmName = realm.getDisplayName() != null && !realm.getDisplayName().isBlank() ? realm.getDisplayName() : realm.getName();
        SheetRequest sheet = new SheetRequest(codes, context.getUser().getUsername(), realmName,
                context.getAuthenticationSession().getAuthNote(NOTE_CREATED_AT),
                context.getSession().getContext().resolveLocale(context.getUser()).toLanguageTag());
        byte[] body;
        try {
            body = BridgeAccess.of(context.getSession(), settings, context.getRealm()).client().sheet(format, sheet);
        } catch (BridgeUnavailableException e) {
            context.challenge(setupPage(context, codes, MSG_DOWNLOAD_UNAVAILABLE));
            return;
        }
        Response response = Response.ok(body)
                .type(format.mediaType())
                .header("Content-Disposition", "attachment; filename=\"" + format.fileName() + "\"")
                .header("Cache-Control", "no-store")
                .header("X-Content-Type-Options", "nosniff")
                .header(NEXT_ACTION_HEADER, context.getActionUrl().toString())
                .build();
        context.challenge(response);
    }

    private Response setupPage(RequiredActionContext context, List<String> codes, String error) {
        String createdAt = context.getAuthenticationSession().getAuthNote(NOTE_CREATED_AT);
        LoginFormsProvider form = context.form()
                .setAttribute("backupCodes", codes)
                .setAttribute("backupCodesCreatedAt", Timestamps.display(createdAt,
                        context.getSession().getContext().resolveLocale(context.getUser())))
                .setAttribute("backupCodesCreatedAtIso", createdAt == null ? "" : createdAt);
        if (error != null) {
            form.addError(new FormMessage(error.equals(MSG_CONFIRM_REQUIRED) ? FIELD_CONFIRM : null, error));
        }
        return form.createForm(TEMPLATE_SETUP);
    }

    private Response confirmRegeneratePage(RequiredActionContext context, int remaining) {
        return context.form()
                .setAttribute("backupCodeRegenerate", true)
                .setAttribute("backupCodeRemaining", remaining)
                .createForm(TEMPLATE_SETUP);
    }

    private Response unavailablePage(RequiredActionContext context) {
        return context.form().setAttribute("backupCodeSetup", true).createForm(TEMPLATE_UNAVAILABLE);
    }

    /**
     * Ask before the bridge throws the current set away while it still has unused codes: when the user came from a
     * link (kc_action), and after a recovery (a used recovery code makes a new set due, but the remaining codes keep
     * working until the new set is issued — e.g. in another browser while this one sits on the setup step). Not after
     * the "few codes left" notice: there the user already chose "Generate new codes now".
     */
    static boolean askBeforeReplacing(BridgeStatus status, boolean applicationInitiated) {
        return status.hasUnusedCodes() && (applicationInitiated || status.enrollRequired());
    }

    private static boolean isApplicationInitiated(AuthenticationSessionModel authSession) {
        return PROVIDER_ID.equals(authSession.getClientNote(Constants.KC_ACTION));
    }

    private static void clearNotes(AuthenticationSessionModel authSession) {
        authSession.removeAuthNote(NOTE_CODES);
        authSession.removeAuthNote(NOTE_CREATED_AT);
        authSession.removeAuthNote(NOTE_SET_ID);
        authSession.removeAuthNote(NOTE_FIRST_SET);
    }

    private static boolean hasOtp(UserModel user) {
        return user.credentialManager().getStoredCredentialsByTypeStream(OTPCredentialModel.TYPE).findAny().isPresent();
    }

    static boolean enrollAfterOtp(RequiredActionConfigModel config) {
        if (config == null || config.getConfig() == null) {
            return true;
        }
        String value = config.getConfig().get(CONFIG_ENROLL_AFTER_OTP);
        return value == null || !"false".equalsIgnoreCase(value.trim());
    }

    private static BackupCodeCredentialProvider credentialProvider(KeycloakSession session) {
        return (BackupCodeCredentialProvider) session.getProvider(CredentialProvider.class, BackupCodeCredentialModel.TYPE);
    }

    @Override
    public void close() {
    }
}
