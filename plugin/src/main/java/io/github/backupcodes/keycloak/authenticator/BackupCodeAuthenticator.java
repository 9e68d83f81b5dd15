package io.github.backupcodes.keycloak.authenticator;

import io.github.backupcodes.keycloak.AuthNotes;
import io.github.backupcodes.keycloak.BridgeAccess;
import io.github.backupcodes.keycloak.CodeInput;
import io.github.backupcodes.keycloak.RealmOptions;
import io.github.backupcodes.keycloak.VerifyOutcome;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.VerifyPurpose;
import io.github.backupcodes.keycloak.bridge.VerifyResult;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialModel;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialProvider;
import io.github.backupcodes.keycloak.requiredaction.BackupCodeSetupAction;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import java.util.function.Function;
import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.AuthenticationFlowError;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.CredentialValidator;
import org.keycloak.authentication.authenticators.util.AuthenticatorUtils;
import org.keycloak.credential.CredentialProvider;
import org.keycloak.events.Details;
import org.keycloak.events.Errors;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.AuthenticationFlowModel;
import org.keycloak.models.AuthenticatorConfigModel;
import org.keycloak.models.DefaultActionTokenKey;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.FormMessage;
import org.keycloak.storage.ReadOnlyException;

/**
 * Second-factor step that checks a backup code with the bridge. Modelled on Keycloak's
 * RecoveryAuthnCodesFormAuthenticator: brute-force lock checked first, wrong codes are {@code failureChallenge}s so
 * Keycloak's own lockout counts them, one generic message whatever the bridge's reason. The one exception is
 * {@code busy} (the user's other attempts still being checked): "try again", not counted, nothing used.
 *
 * <p>Fails closed: when the bridge cannot answer, the user sees "temporarily unavailable" and is never let through.
 *
 * <p>In the realm's reset-credentials flow a code is a <em>recovery</em> code (purpose {@code recovery}): a success
 * requires a fresh set at the end of the reset (NIST: a used recovery code is replaced). In any flow a success sets
 * the auth note {@link AuthNotes#PASSED}, so the second-factor condition does not ask again.
 */
public class BackupCodeAuthenticator implements Authenticator, CredentialValidator<BackupCodeCredentialProvider> {

    private static final Logger LOG = Logger.getLogger(BackupCodeAuthenticator.class);

    public static final String FIELD_CODE = "backupCode";
    public static final String FIELD_TRY_AGAIN = "backupCodeTryAgain";
    public static final String FIELD_LOW_CHOICE = "backupCodeLowChoice";
    public static final String LOW_CHOICE_REGENERATE = "regenerate";

    public static final String TEMPLATE_LOGIN = "backup-code-login.ftl";
    public static final String TEMPLATE_LOW = "backup-code-low.ftl";
    public static final String TEMPLATE_UNAVAILABLE = "backup-code-unavailable.ftl";

    public static final String MSG_INVALID = "backupCodeInvalid";
    public static final String MSG_REQUIRED = "backupCodeRequired";
    public static final String MSG_BUSY = "backupCodeBusy";

    /** Auth note set once a valid code was accepted and the "few codes left" page is showing. */
    static final String NOTE_ACCEPTED_REMAINING = "backupCode.acceptedRemaining";

    private final BridgeSettings settings;

    public BackupCodeAuthenticator(BridgeSettings settings) {
        this.settings = settings;
    }

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        String acceptedRemaining = context.getAuthenticationSession().getAuthNote(NOTE_ACCEPTED_REMAINING);
        if (acceptedRemaining != null) {
            // A refresh after the code was already spent: show the notice again, never ask for another code.
            context.challenge(lowPage(context, acceptedRemaining));
            return;
        }
        if (emailLinkAlreadyFollowed(context)) {
            // Code-only reset: the code and the email link are alternatives. Keycloak restarts the flow after the
            // link, and the first alternative (this one) would ask for a code again; step aside for the email step.
            context.attempted();
            return;
        }
        if (refusedByBruteForce(context, bruteForceError(context), inResetCredentialsFlow(context))) {
            return;
        }
        try {
            BridgeAccess.status(context.getSession(), settings, context.getRealm(), context.getUser());
        } catch (BridgeUnavailableException e) {
            context.challenge(unavailablePage(context));
            return;
        }
        context.challenge(loginForm(context, null));
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        MultivaluedMap<String, String> form = context.getHttpRequest().getDecodedFormParameters();
        String acceptedRemaining = context.getAuthenticationSession().getAuthNote(NOTE_ACCEPTED_REMAINING);
        if (acceptedRemaining != null) {
            finishAfterLowNotice(context, form.getFirst(FIELD_LOW_CHOICE));
            return;
        }
        if (form.containsKey(FIELD_TRY_AGAIN)) {
            BridgeAccess.forget(context.getSession(), context.getRealm(), context.getUser());
            authenticate(context);
            return;
        }
        String bruteForce = bruteForceError(context);
        boolean recovery = inResetCredentialsFlow(context);
        if (refusedByBruteForce(context, bruteForce, recovery)) {
            return;
        }
        boolean keycloakLocked = recoversFromTemporaryLock(bruteForce, recovery);

        CodeInput.Checked input = CodeInput.check(form.getFirst(FIELD_CODE));
        if (input.verdict() == CodeInput.Verdict.EMPTY) {
            context.challenge(loginForm(context, MSG_REQUIRED));
            return;
        }
        context.getEvent().user(context.getUser()).detail(Details.CREDENTIAL_TYPE, BackupCodeCredentialModel.TYPE);

        RealmOptions options = options(context);
        VerifyResult result;
        try {
            result = BridgeAccess.verify(context.getSession(), settings, context.getRealm(),
                    context.getUser(), input, recovery ? VerifyPurpose.RECOVERY : VerifyPurpose.LOGIN, keycloakLocked);
        } catch (BridgeUnavailableException e) {
            context.getEvent().detail("reason", "bridge_unavailable").error("backup_code_bridge_unavailable");
            context.challenge(unavailablePage(context));
            return;
        }

        VerifyOutcome outcome = VerifyOutcome.of(result, options);
        if (outcome == VerifyOutcome.BUSY || outcome == VerifyOutcome.FAILURE) {
            refuse(context, outcome, result.reason(), error -> loginForm(context, error));
            return;
        }

        context.getEvent().detail("reason", result.reason())
                .detail("backup_codes_remaining", String.valueOf(Math.max(result.remaining(), 0)));
        context.getAuthenticationSession().setAuthNote(AuthNotes.PASSED, "true");
        if (recovery) {
            context.getEvent().detail("backup_code_purpose", VerifyPurpose.RECOVERY.wire());
            if (keycloakLocked) {
                // As on the lock-recovery login form: the recovery lifts Keycloak's temporary lock.
                context.getSession().loginFailures().removeUserLoginFailure(context.getRealm(), context.getUser().getId());
                context.getEvent().detail("cleared_locks", String.join(",", result.clearedLocks()));
            }
            requireSetup(context);
            context.success(BackupCodeCredentialModel.TYPE);
            return;
        }
        switch (outcome) {
            case SUCCESS_SETUP_REQUIRED -> {
                requireSetup(context);
                context.success(BackupCodeCredentialModel.TYPE);
            }
            case SUCCESS_LOW -> {
                String remaining = String.valueOf(result.remaining());
                context.getAuthenticationSession().setAuthNote(NOTE_ACCEPTED_REMAINING, remaining);
                context.challenge(lowPage(context, remaining));
            }
            default -> context.success(BackupCodeCredentialModel.TYPE);
        }
    }

    /**
     * A code the bridge refused. {@code busy} (the user's other attempts still being checked) is a plain challenge that
     * says "try again": not a failed login for Keycloak's brute-force detection, and the bridge used and counted
     * nothing. Anything else is a failed login ({@code failureChallenge}) with the one generic message.
     */
    static void refuse(AuthenticationFlowContext context, VerifyOutcome outcome, String reason,
                       Function<String, Response> form) {
        if (!outcome.countsAsFailedLogin()) {
            context.challenge(form.apply(MSG_BUSY));
            return;
        }
        context.getEvent().detail("reason", reason).error(VerifyOutcome.eventError(reason));
        context.failureChallenge(AuthenticationFlowError.INVALID_CREDENTIALS, form.apply(MSG_INVALID));
    }

    /** The realm's bound reset-credentials flow (the installer binds its copy there). */
    static boolean inResetCredentialsFlow(AuthenticationFlowContext context) {
        AuthenticationFlowModel reset = context.getRealm().getResetCredentialsFlow();
        AuthenticationFlowModel top = context.getTopLevelFlow();
        return reset != null && top != null && reset.getId().equals(top.getId());
    }

    /**
     * True when this step is an alternative to the email step of the reset-credentials flow and the user already
     * came back through the emailed link (Keycloak's own ResetCredentialEmail then passes without a screen).
     */
    static boolean emailLinkAlreadyFollowed(AuthenticationFlowContext context) {
        if (context.getExecution() == null || !context.getExecution().isAlternative() || context.getUser() == null) {
            return false;
        }
        String linkUser = context.getAuthenticationSession().getAuthNote(DefaultActionTokenKey.ACTION_TOKEN_USER_ID);
        return linkUser != null && linkUser.equals(context.getUser().getId()) && inResetCredentialsFlow(context);
    }

    private void finishAfterLowNotice(AuthenticationFlowContext context, String choice) {
        context.getAuthenticationSession().removeAuthNote(NOTE_ACCEPTED_REMAINING);
        if (LOW_CHOICE_REGENERATE.equals(choice)) {
            // Only for this login: "Not now" next time must stay possible.
            context.getAuthenticationSession().addRequiredAction(BackupCodeSetupAction.PROVIDER_ID);
        }
        context.success(BackupCodeCredentialModel.TYPE);
    }

    static void requireSetup(AuthenticationFlowContext context) {
        try {
            context.getUser().addRequiredAction(BackupCodeSetupAction.PROVIDER_ID);
        } catch (ReadOnlyException e) {
            context.getAuthenticationSession().addRequiredAction(BackupCodeSetupAction.PROVIDER_ID);
        }
    }

    /** Keycloak's brute-force lock refuses the code step, except as {@link #recoversFromTemporaryLock} says. */
    private boolean refusedByBruteForce(AuthenticationFlowContext context, String error, boolean recovery) {
        if (error == null || recoversFromTemporaryLock(error, recovery)) {
            return false;
        }
        context.getEvent().user(context.getUser()).detail("reason", "keycloak_brute_force").error(error);
        // Same generic message as a wrong code: the page must not reveal that the account is locked.
        context.forceChallenge(loginForm(context, MSG_INVALID));
        return true;
    }

    /**
     * A temporary lock in the reset-credentials flow does not refuse the code step: a user who forgot the password
     * has often locked the account trying, and there the code (after the email link, by default) is the recovery;
     * its success lifts the lock, as on the lock-recovery login form. Without this a user with codes would be
     * refused where one without codes gets through with the email link alone.
     */
    private static boolean recoversFromTemporaryLock(String bruteForceError, boolean recovery) {
        return recovery && Errors.USER_TEMPORARILY_DISABLED.equals(bruteForceError);
    }

    /** Keycloak's event error for the user's brute-force lock, or null when the user is not locked. */
    private static String bruteForceError(AuthenticationFlowContext context) {
        return AuthenticatorUtils.getDisabledByBruteForceEventError(context, context.getUser());
    }

    private Response loginForm(AuthenticationFlowContext context, String error) {
        LoginFormsProvider form = context.form().setExecution(context.getExecution().getId());
        if (error != null) {
            form.addError(new FormMessage(FIELD_CODE, error));
        }
        if (inResetCredentialsFlow(context)) {
            form.setAttribute("backupCodeResetFlow", true);  // "Continue": the reset goes on to the new password
        }
        return form.createForm(TEMPLATE_LOGIN);
    }

    private Response lowPage(AuthenticationFlowContext context, String remaining) {
        return context.form()
                .setExecution(context.getExecution().getId())
                .setAttribute("backupCodeRemaining", remaining)
                .createForm(TEMPLATE_LOW);
    }

    private Response unavailablePage(AuthenticationFlowContext context) {
        LOG.debugf("backup-code step shows the unavailable page for realm %s", context.getRealm().getName());
        return context.form()
                .setExecution(context.getExecution().getId())
                .createForm(TEMPLATE_UNAVAILABLE);
    }

    private static RealmOptions options(AuthenticationFlowContext context) {
        AuthenticatorConfigModel config = context.getAuthenticatorConfig();
        return RealmOptions.from(config == null ? null : config.getConfig());
    }

    @Override
    public boolean requiresUser() {
        return true;
    }

    /**
     * Configured = the user has our marker credential and the bridge still holds unused codes for them.
     *
     * <p>A new set being due ({@code enroll_required}, e.g. after a recovery) does not make the user unconfigured
     * while codes remain: they keep working until the new set is issued, and the second factor must still be asked
     * (otherwise the password alone would lead to the setup page). After a helpdesk reset no codes remain.
     *
     * <p>No marker: false without asking the bridge. Marker but bridge unreachable: <b>true</b>, so a user who relies on
     * backup codes still meets a second-factor step (which then says "temporarily unavailable") instead of the
     * conditional 2FA subflow being skipped. Other alternatives (OTP) keep working and stay first in the selection.
     */
    @Override
    public boolean configuredFor(KeycloakSession session, RealmModel realm, UserModel user) {
        if (!getCredentialProvider(session).hasMarker(user)) {
            return false;
        }
        try {
            BridgeStatus status = BridgeAccess.status(session, settings, realm, user);
            return status.hasUnusedCodes();
        } catch (BridgeUnavailableException e) {
            return true;
        }
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
        var authSession = session.getContext().getAuthenticationSession();
        if (authSession != null && !authSession.getRequiredActions().contains(BackupCodeSetupAction.PROVIDER_ID)) {
            authSession.addRequiredAction(BackupCodeSetupAction.PROVIDER_ID);
        }
    }

    @Override
    public BackupCodeCredentialProvider getCredentialProvider(KeycloakSession session) {
        return (BackupCodeCredentialProvider) session.getProvider(CredentialProvider.class, BackupCodeCredentialModel.TYPE);
    }

    @Override
    public String getType(KeycloakSession session) {
        return BackupCodeCredentialModel.TYPE;
    }

    @Override
    public void close() {
    }
}
