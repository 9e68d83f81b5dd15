package io.github.backupcodes.keycloak.recovery;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeStatus;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.VerifyPurpose;
import io.github.backupcodes.keycloak.bridge.VerifyResult;
import io.github.backupcodes.keycloak.contract.Contract;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialModel;
import io.github.backupcodes.keycloak.credential.BackupCodeCredentialProvider;
import io.github.backupcodes.keycloak.login.BackupCodeAuthenticator;
import io.github.backupcodes.keycloak.login.CodeFlow;
import io.github.backupcodes.keycloak.login.CodeInput;
import io.github.backupcodes.keycloak.login.VerifyOutcome;
import jakarta.ws.rs.core.MultivaluedHashMap;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.AuthenticationFlowError;
import org.keycloak.authentication.authenticators.browser.UsernamePasswordForm;
import org.keycloak.credential.CredentialProvider;
import org.keycloak.events.Details;
import org.keycloak.events.Errors;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ModelDuplicateException;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserCredentialModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.credential.PasswordCredentialModel;
import org.keycloak.models.utils.FormMessage;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.representations.idm.CredentialRepresentation;
import org.keycloak.services.managers.AuthenticationManager;
import org.keycloak.services.managers.BruteForceProtector;
import org.keycloak.services.validation.Validation;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * Keycloak's username/password form plus lock recovery with a backup code (docs/design.md, "Recovery scenarios").
 *
 * <ul>
 *   <li><b>Keycloak temporary brute-force lock</b>, user with unused codes: instead of the usual refusal the backup-code
 *   page appears. The password is checked too, but its verdict is revealed only together with the code: a wrong
 *   password or a wrong code both end in Keycloak's generic error and count as a failed login. Password and code right:
 *   the user's login failures are removed (as the admin endpoint does), note {@link Contract#NOTE_PASSED} is set, and the
 *   login continues (the code was the second factor).</li>
 *   <li><b>Directory temporary lock</b> known to the bridge: after the directory refused the password, the backup-code
 *   page; a valid code lifts the lock (the bridge clears it, the LDAP sync writes the unlock back) and the user is sent
 *   back to the login form with "unlocked, sign in again".</li>
 *   <li>Everything else — no codes, permanent locks, disabled users, the bridge's own codes lock — is Keycloak's usual
 *   behaviour; nothing is cleared.</li>
 * </ul>
 */
class LockRecoveryUsernamePasswordForm extends UsernamePasswordForm {

    private static final Logger LOG = Logger.getLogger(LockRecoveryUsernamePasswordForm.class);

    static final String NOTE_USER = "backup-code.recovery.user";
    static final String NOTE_KIND = "backup-code.recovery.kind";
    static final String NOTE_PASSWORD_OK = "backup-code.recovery.password-ok";

    public static final String MSG_LOCKED_RECOVERY = "backupCodeLockedRecovery";
    public static final String MSG_UNLOCKED = "backupCodeUnlockedSignInAgain";
    public static final String MSG_UNAVAILABLE = "backupCodeUnavailableMessage";

    private final BridgeSettings settings;

    public LockRecoveryUsernamePasswordForm(KeycloakSession session, BridgeSettings settings) {
        super(session);
        this.settings = settings;
    }

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        clearRecovery(context.getAuthenticationSession());
        super.authenticate(context);
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        MultivaluedMap<String, String> form = context.getHttpRequest().getDecodedFormParameters();
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        if (authSession.getAuthNote(NOTE_USER) != null && form.containsKey(BackupCodeAuthenticator.FIELD_CODE)) {
            recoveryAction(context);
            return;
        }
        // Anything else (e.g. the login form posted again from the browser history) starts over.
        clearRecovery(authSession);
        super.action(context);
    }

    @Override
    protected boolean validateForm(AuthenticationFlowContext context, MultivaluedMap<String, String> formData) {
        String password = formData.getFirst(CredentialRepresentation.PASSWORD);
        boolean hasPassword = password != null && !password.isEmpty();
        UserModel candidate = hasPassword ? candidateUser(context, formData) : null;
        boolean mayRecover = candidate != null && hasMarker(context.getSession(), candidate);

        if (mayRecover) {
            LockRecovery.KeycloakState state = keycloakState(context, candidate);
            if (state.temporarilyLocked()
                    && LockRecovery.forKeycloakLock(state, status(context, candidate)) == LockRecovery.Kind.KEYCLOAK_TEMPORARY) {
                boolean passwordOk = candidate.credentialManager().isValid(UserCredentialModel.password(password));
                startRecovery(context, candidate, LockRecovery.Kind.KEYCLOAK_TEMPORARY, passwordOk);
                context.challenge(codePage(context, null));
                return false;
            }
        }

        boolean valid = super.validateForm(context, formData);
        if (valid || !mayRecover) {
            return valid;
        }
        // The password was refused. A directory that is locked refuses every bind, so a code is the way out.
        LockRecovery.KeycloakState state = keycloakState(context, candidate);
        if (LockRecovery.forDirectoryLock(state, status(context, candidate)) == LockRecovery.Kind.DIRECTORY_TEMPORARY) {
            startRecovery(context, candidate, LockRecovery.Kind.DIRECTORY_TEMPORARY, false);
            // Still a failed login for Keycloak's brute-force detection, as it would have been.
            context.failureChallenge(AuthenticationFlowError.INVALID_CREDENTIALS, codePage(context, null));
        }
        return false;
    }

    private void recoveryAction(AuthenticationFlowContext context) {
        Pending pending = Pending.read(context);
        CodeFlow flow = new CodeFlow(context, settings);
        CodeInput.Checked input = flow.submittedCode();
        if (pending.user() != null && input.verdict() == CodeInput.Verdict.EMPTY) {
            context.challenge(codePage(context, BackupCodeAuthenticator.MSG_REQUIRED));
            return;
        }
        clearRecovery(context.getAuthenticationSession());
        if (pending.user() == null) {
            context.challenge(loginPage(context, null, null));
            return;
        }
        recordAttempt(context, flow, pending);
        LockRecovery.KeycloakState state = keycloakState(context, pending.user());
        if (refusedBeforeTheCode(context, pending, state)) {
            return;
        }
        boolean keycloakLocked = pending.kind() == LockRecovery.Kind.KEYCLOAK_TEMPORARY && state.temporarilyLocked();
        flow.verify(pending.user(), input, VerifyPurpose.RECOVERY, keycloakLocked,
                        loginPage(context, MSG_UNAVAILABLE, null))
                .ifPresent(result -> answer(context, flow, pending, result));
    }

    /** The recovery this form started (auth notes); {@code user} is null when there is none to continue. */
    private record Pending(UserModel user, LockRecovery.Kind kind, boolean passwordOk) {

        static Pending read(AuthenticationFlowContext context) {
            AuthenticationSessionModel authSession = context.getAuthenticationSession();
            LockRecovery.Kind kind = LockRecovery.Kind.fromWire(authSession.getAuthNote(NOTE_KIND));
            UserModel user = kind == LockRecovery.Kind.NONE ? null
                    : context.getSession().users().getUserById(context.getRealm(), authSession.getAuthNote(NOTE_USER));
            return new Pending(user, kind, "true".equals(authSession.getAuthNote(NOTE_PASSWORD_OK)));
        }
    }

    private static void recordAttempt(AuthenticationFlowContext context, CodeFlow flow, Pending pending) {
        flow.recordAttempt(pending.user());
        context.getEvent()
                .detail(Details.USERNAME, pending.user().getUsername())
                .detail("backup_code_purpose", VerifyPurpose.RECOVERY.wire())
                .detail("lock", pending.kind().wire());
    }

    /** A disabled or permanently locked user, or a wrong password under Keycloak's lock: no code is spent. */
    private boolean refusedBeforeTheCode(AuthenticationFlowContext context, Pending pending,
                                         LockRecovery.KeycloakState state) {
        if (!state.enabled() || state.permanentlyLocked()) {
            fail(context, "user_disabled", Errors.USER_DISABLED);
            return true;
        }
        if (pending.kind() == LockRecovery.Kind.KEYCLOAK_TEMPORARY && !pending.passwordOk()) {
            // No bridge call: a code must not be spent (or counted) on a wrong password.
            fail(context, "wrong_password", Errors.INVALID_USER_CREDENTIALS);
            return true;
        }
        return false;
    }

    /** The bridge's verdict: ask again (busy), the generic error, "unlocked, sign in again", or signed in. */
    private void answer(AuthenticationFlowContext context, CodeFlow flow, Pending pending, VerifyResult result) {
        VerifyOutcome outcome = VerifyOutcome.of(result);
        if (outcome == VerifyOutcome.BUSY) {
            // Not a failed login and nothing used: the same recovery asks for the code again.
            startRecovery(context, pending.user(), pending.kind(), pending.passwordOk());
            context.challenge(codePage(context, BackupCodeAuthenticator.MSG_BUSY));
            return;
        }
        if (outcome.refused()) {
            fail(context, result.reason(), VerifyOutcome.eventError(result.reason()));
            return;
        }
        flow.accept(result);
        context.getEvent().detail("cleared_locks", String.join(",", result.clearedLocks()));
        if (pending.kind() == LockRecovery.Kind.DIRECTORY_TEMPORARY) {
            LOG.debugf("backup code lifted a directory lock for user %s", pending.user().getId());
            context.clearUser();
            context.challenge(loginPage(context, null, MSG_UNLOCKED));
            return;
        }
        signInAfterKeycloakLock(context, flow, pending.user(), outcome);
    }

    /** Keycloak's own lock: clear it before anything later in the flow (2FA forms) looks at it. */
    private static void signInAfterKeycloakLock(AuthenticationFlowContext context, CodeFlow flow, UserModel user,
                                                VerifyOutcome outcome) {
        context.getSession().loginFailures().removeUserLoginFailure(context.getRealm(), user.getId());
        context.getAuthenticationSession().setAuthNote(AuthenticationManager.PASSWORD_VALIDATED, "true");
        context.setUser(user);
        if (outcome != VerifyOutcome.SUCCESS) {
            flow.requireSetup();
        }
        context.success(PasswordCredentialModel.TYPE);
    }

    /** Keycloak's generic error on the login form, counted as a failed login like a wrong password. */
    private void fail(AuthenticationFlowContext context, String reason, String eventError) {
        context.getEvent().detail("reason", reason).error(eventError);
        context.failureChallenge(AuthenticationFlowError.INVALID_CREDENTIALS,
                loginPage(context, getDefaultChallengeMessage(context), null));
        context.clearUser();
    }

    private void startRecovery(AuthenticationFlowContext context, UserModel user, LockRecovery.Kind kind, boolean passwordOk) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        authSession.setAuthNote(NOTE_USER, user.getId());
        authSession.setAuthNote(NOTE_KIND, kind.wire());
        authSession.setAuthNote(NOTE_PASSWORD_OK, String.valueOf(passwordOk));
        // Keycloak's "restart login" link and brute-force accounting both use the attempted username.
        authSession.setAuthNote(ATTEMPTED_USERNAME, user.getUsername());
    }

    private static void clearRecovery(AuthenticationSessionModel authSession) {
        authSession.removeAuthNote(NOTE_USER);
        authSession.removeAuthNote(NOTE_KIND);
        authSession.removeAuthNote(NOTE_PASSWORD_OK);
    }

    private Response codePage(AuthenticationFlowContext context, String error) {
        LoginFormsProvider form = context.form()
                .setExecution(context.getExecution().getId())
                .setAttribute("backupCodeLockedRecovery", true);
        if (error != null) {
            form.addError(new FormMessage(BackupCodeAuthenticator.FIELD_CODE, error));
        }
        return form.createForm(BackupCodeAuthenticator.TEMPLATE_LOGIN);
    }

    private Response loginPage(AuthenticationFlowContext context, String error, String info) {
        LoginFormsProvider form = context.form().setExecution(context.getExecution().getId());
        String attempted = context.getAuthenticationSession().getAuthNote(ATTEMPTED_USERNAME);
        if (attempted != null && !isUserAlreadySetBeforeUsernamePasswordAuth(context)) {
            MultivaluedMap<String, String> formData = new MultivaluedHashMap<>();
            formData.add(AuthenticationManager.FORM_USERNAME, attempted);
            form.setFormData(formData);
        }
        if (error != null) {
            form.addError(new FormMessage(Validation.FIELD_PASSWORD, error));
        }
        if (info != null) {
            form.setInfo(info);
        }
        return createLoginForm(form);
    }

    /** The user this form would log in, found without any of the side effects of Keycloak's own lookup. */
    private UserModel candidateUser(AuthenticationFlowContext context, MultivaluedMap<String, String> formData) {
        if (isUserAlreadySetBeforeUsernamePasswordAuth(context)) {
            return context.getUser();
        }
        String username = formData.getFirst(AuthenticationManager.FORM_USERNAME);
        if (username == null || username.isBlank()) {
            return null;
        }
        try {
            return KeycloakModelUtils.findUserByNameOrEmail(context.getSession(), context.getRealm(), username.trim());
        } catch (ModelDuplicateException e) {
            return null;
        }
    }

    private static LockRecovery.KeycloakState keycloakState(AuthenticationFlowContext context, UserModel user) {
        RealmModel realm = context.getRealm();
        if (!realm.isBruteForceProtected()) {
            return new LockRecovery.KeycloakState(user.isEnabled(), false, false);
        }
        BruteForceProtector protector = context.getSession().getProvider(BruteForceProtector.class);
        return new LockRecovery.KeycloakState(user.isEnabled(),
                protector.isPermanentlyLockedOut(context.getSession(), realm, user),
                protector.isTemporarilyDisabled(context.getSession(), realm, user));
    }

    /** The bridge status, or null when the bridge cannot answer: then there is no recovery, only the usual path. */
    private BridgeStatus status(AuthenticationFlowContext context, UserModel user) {
        try {
            return BridgeAccess.of(context.getSession(), settings, context.getRealm()).status(user);
        } catch (BridgeUnavailableException e) {
            return null;
        }
    }

    private static boolean hasMarker(KeycloakSession session, UserModel user) {
        var provider = (BackupCodeCredentialProvider) session.getProvider(CredentialProvider.class, BackupCodeCredentialModel.TYPE);
        return provider != null && provider.hasMarker(user);
    }
}
