package io.github.backupcodes.keycloak.login;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.VerifyPurpose;
import io.github.backupcodes.keycloak.bridge.VerifyResult;
import io.github.backupcodes.keycloak.contract.Contract;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialModel;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialProvider;
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
 * the auth note {@link Contract#NOTE_PASSED}, so the second-factor condition does not ask again.
 */
public class BackupCodeAuthenticator implements Authenticator, CredentialValidator<BackupCodeCredentialProvider> {

    private static final Logger LOG = Logger.getLogger(BackupCodeAuthenticator.class);

    public static final String FIELD_CODE = Contract.FIELD_CODE;
    public static final String FIELD_TRY_AGAIN = Contract.FIELD_TRY_AGAIN;
    public static final String FIELD_LOW_CHOICE = Contract.FIELD_LOW_CHOICE;
    public static final String LOW_CHOICE_REGENERATE = Contract.LOW_CHOICE_REGENERATE;

    public static final String TEMPLATE_LOGIN = Contract.TEMPLATE_LOGIN;
    public static final String TEMPLATE_LOW = Contract.TEMPLATE_LOW;
    public static final String TEMPLATE_UNAVAILABLE = Contract.TEMPLATE_UNAVAILABLE;

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
            BridgeAccess.of(context.getSession(), settings, context.getRealm()).status(context.getUser());
        } catch (BridgeUnavailableException e) {
            context.challenge(unavailablePage(context));
            return;
        }
        context.challenge(loginForm(context, null));
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        MultivaluedMap<String, String> form = context.getHttpRequest().getDecodedFormParameters();
        if (context.getAuthenticationSession().getAuthNote(NOTE_ACCEPTED_REMAINING) != null) {
            finishAfterLowNotice(context, form.getFirst(FIELD_LOW_CHOICE));
            return;
        }
        CodeFlow flow = new CodeFlow(context, settings);
        if (form.containsKey(FIELD_TRY_AGAIN)) {
            flow.bridge().forget(context.getUser());
            authenticate(context);
            return;
        }
        Attempt attempt = Attempt.of(context);
        if (refusedByBruteForce(context, attempt.bruteForceError(), attempt.recovery())) {
            return;
        }
        CodeInput.Checked input = flow.submittedCode();
        if (input.verdict() == CodeInput.Verdict.EMPTY) {
            context.challenge(loginForm(context, MSG_REQUIRED));
            return;
        }
        flow.recordAttempt(context.getUser());
        flow.verify(context.getUser(), input, attempt.purpose(), attempt.keycloakLocked(), unavailablePage(context))
                .ifPresent(result -> answer(context, flow, attempt, result));
    }

    /** What this submission is: a login or a recovery (reset-credentials flow), under which brute-force lock. */
    private record Attempt(String bruteForceError, boolean recovery) {

        static Attempt of(AuthenticationFlowContext context) {
            return new Attempt(BackupCodeAuthenticator.bruteForceError(context), inResetCredentialsFlow(context));
        }

        VerifyPurpose purpose() {
            return recovery ? VerifyPurpose.RECOVERY : VerifyPurpose.LOGIN;
        }

        boolean keycloakLocked() {
            return recoversFromTemporaryLock(bruteForceError, recovery);
        }
    }

    /** The bridge's verdict, turned into the next page: refused, recovered, a new set due, few left, or done. */
    private void answer(AuthenticationFlowContext context, CodeFlow flow, Attempt attempt, VerifyResult result) {
        VerifyOutcome outcome = VerifyOutcome.of(result);
        if (outcome.refused()) {
            flow.refuse(outcome, result.reason(), error -> loginForm(context, error));
            return;
        }
        flow.accept(result);
        context.getEvent().detail("backup_codes_remaining", String.valueOf(Math.max(result.remaining(), 0)));
        if (attempt.recovery()) {
            finishRecovery(context, flow, attempt, result);
            return;
        }
        switch (outcome) {
            case SUCCESS_SETUP_REQUIRED -> {
                flow.requireSetup();
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

    /** In the reset-credentials flow a used code is replaced at the end of the reset (NIST: recovery codes). */
    private static void finishRecovery(AuthenticationFlowContext context, CodeFlow flow, Attempt attempt,
                                       VerifyResult result) {
        context.getEvent().detail("backup_code_purpose", VerifyPurpose.RECOVERY.wire());
        if (attempt.keycloakLocked()) {
            // As on the lock-recovery login form: the recovery lifts Keycloak's temporary lock.
            flow.liftKeycloakLock(context.getUser(), result);
        }
        flow.requireSetup();
        context.success(BackupCodeCredentialModel.TYPE);
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
            context.getAuthenticationSession().addRequiredAction(Contract.SETUP_ACTION_ID);
        }
        context.success(BackupCodeCredentialModel.TYPE);
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
            BridgeStatus status = BridgeAccess.of(session, settings, realm).status(user);
            // Asked at every login: the admin console's row catches up with locks lifted or set meanwhile.
            getCredentialProvider(session).refresh(user, status);
            return status.hasUnusedCodes();
        } catch (BridgeUnavailableException e) {
            return true;
        }
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
        var authSession = session.getContext().getAuthenticationSession();
        if (authSession != null && !authSession.getRequiredActions().contains(Contract.SETUP_ACTION_ID)) {
            authSession.addRequiredAction(Contract.SETUP_ACTION_ID);
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
