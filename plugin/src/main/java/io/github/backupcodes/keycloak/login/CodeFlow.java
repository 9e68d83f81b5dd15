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
import jakarta.ws.rs.core.Response;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.AuthenticationFlowError;
import org.keycloak.credential.CredentialProvider;
import org.keycloak.events.Details;
import org.keycloak.models.UserModel;
import org.keycloak.storage.ReadOnlyException;

import java.util.Optional;
import java.util.function.Function;

/**
 * One code step of one request (the backup-code form, or lock recovery on the password form): the Keycloak flow
 * context plus this request's bridge, handing out the steps both forms share so each {@code action()} reads as a
 * script. Modelled on keycloak-home-idp-discovery's {@code HomeIdpAuthenticationFlowContext}.
 */
public final class CodeFlow {

    /** Event detail: the end of the lock this failure caused or met (ISO-8601). */
    public static final String DETAIL_LOCKED_UNTIL = "backup_codes_locked_until";

    private final AuthenticationFlowContext context;
    private final BridgeSettings settings;

    public CodeFlow(AuthenticationFlowContext context, BridgeSettings settings) {
        this.context = context;
        this.settings = settings;
    }

    public BridgeAccess bridge() {
        return BridgeAccess.of(context.getSession(), settings, context.getRealm());
    }

    /** The code field as typed, trimmed; see {@link CodeInput}. */
    public CodeInput.Checked submittedCode() {
        return CodeInput.check(context.getHttpRequest().getDecodedFormParameters().getFirst(Contract.FIELD_CODE));
    }

    /** Who the event is about and which credential: set before anything can fail, so every outcome is attributed. */
    public void recordAttempt(UserModel user) {
        context.getEvent().user(user).detail(Details.CREDENTIAL_TYPE, BackupCodeCredentialModel.TYPE);
    }

    /**
     * The bridge's verdict on the typed code. Input over the length cap is refused here, without a call. Empty when
     * the bridge cannot answer: then the event says so and {@code unavailable} is shown (fail closed).
     */
    public Optional<VerifyResult> verify(UserModel user, CodeInput.Checked input, VerifyPurpose purpose,
                                         boolean keycloakLocked, Response unavailable) {
        if (input.verdict() == CodeInput.Verdict.TOO_LONG) {
            return Optional.of(VerifyResult.rejectedLocally("malformed"));
        }
        try {
            VerifyResult result = bridge().verify(user, input.value(), purpose, keycloakLocked);
            if (!result.lockedUntil().isEmpty()) {
                // The lockout shows in the realm's events: this failure locked the user (or met the lock) until then.
                context.getEvent().detail(DETAIL_LOCKED_UNTIL, result.lockedUntil());
            }
            refreshMarker(user);
            return Optional.of(result);
        } catch (BridgeUnavailableException e) {
            context.getEvent().detail("reason", "bridge_unavailable").error("backup_code_bridge_unavailable");
            context.challenge(unavailable);
            return Optional.empty();
        }
    }

    /**
     * The admin console's view of the user's codes after this check (remaining, last used, a new lock): one status
     * read, best effort, so the Credentials tab is current without a shell on the bridge host.
     */
    private void refreshMarker(UserModel user) {
        try {
            BridgeStatus status = bridge().status(user);
            credentials().refresh(user, status);
        } catch (BridgeUnavailableException e) {
            // The login goes on; the row catches up at the next step that reads the status.
        }
    }

    private BackupCodeCredentialProvider credentials() {
        return (BackupCodeCredentialProvider) context.getSession()
                .getProvider(CredentialProvider.class, BackupCodeCredentialModel.TYPE);
    }

    /**
     * A code the bridge refused. {@code busy} (the user's other attempts still being checked) is a plain challenge that
     * says "try again": not a failed login for Keycloak's brute-force detection, and the bridge used and counted
     * nothing. Anything else is a failed login ({@code failureChallenge}) with the one generic message.
     */
    public void refuse(VerifyOutcome outcome, String reason, Function<String, Response> form) {
        if (!outcome.countsAsFailedLogin()) {
            context.challenge(form.apply(BackupCodeAuthenticator.MSG_BUSY));
            return;
        }
        context.getEvent().detail("reason", reason).error(VerifyOutcome.eventError(reason));
        context.failureChallenge(AuthenticationFlowError.INVALID_CREDENTIALS, form.apply(BackupCodeAuthenticator.MSG_INVALID));
    }

    /** A valid code: the event carries the bridge's reason, and the second-factor condition will not ask again. */
    public void accept(VerifyResult result) {
        context.getEvent().detail("reason", result.reason());
        context.getAuthenticationSession().setAuthNote(Contract.NOTE_PASSED, "true");
    }

    /** The recovery lifts Keycloak's temporary brute-force lock, before later steps of the flow look at it. */
    public void liftKeycloakLock(UserModel user, VerifyResult result) {
        context.getSession().loginFailures().removeUserLoginFailure(context.getRealm(), user.getId());
        context.getEvent().detail("cleared_locks", String.join(",", result.clearedLocks()));
    }

    /** A new set before the login completes; on a read-only user, for this login only. */
    public void requireSetup() {
        try {
            context.getUser().addRequiredAction(Contract.SETUP_ACTION_ID);
        } catch (ReadOnlyException e) {
            context.getAuthenticationSession().addRequiredAction(Contract.SETUP_ACTION_ID);
        }
    }
}
