"""Verify and consume one code: one read, a pure decision, one write, the hash, one settling write.

* A verification costs exactly one Argon2 evaluation, whatever the user, the number of codes or
  whether the code exists (a dummy hash stands in for a missing candidate). Only the refusals that
  need no secret — rate limited, malformed input, locked, busy — skip it, and they skip it *before*
  any hashing so they are cheap. ``busy`` counts nothing and uses nothing: the caller may retry it.
* Single use is one conditional ``UPDATE … WHERE id = ? AND used_at IS NULL`` (:mod:`bridge.store.codes`).
* No write transaction is open while hashing, so the SQLite writer lock is held for milliseconds: the
  attempt is two short transactions, one before the hash (rate limit, the read, the decision's write)
  and one after (consume, settle, audit, mail).
* Unknown users: the bridge keeps no row for a user it has never seen, and a verification does not
  create one (that would let anyone fill the table with junk). Such attempts still cost one dummy
  Argon2 verification and an audit event, so they look and take the same as any failure; they are
  bounded by the per-IP rate limit rather than a per-user counter, which would have nothing to protect.

The rules are :mod:`bridge.domain.verification`; this module only moves data between them and the store.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from bridge.domain import codes
from bridge.domain import locks as lock_rules
from bridge.domain import verification as rules
from bridge.domain.addresses import canonical_client_ip
from bridge.domain.ids import check_ids
from bridge.domain.results import Reason, VerifyResult
from bridge.domain.verification import Attempt, Decision, Purpose, Snapshot
from bridge.errors import InvalidRequest
from bridge.service import ratelimit
from bridge.service.context import Context
from bridge.service.recovery import recover
from bridge.store import codes as code_rows
from bridge.store import locks as lock_rows
from bridge.store import verification as reads


@dataclass(frozen=True)
class Counted:
    allowed: bool
    snapshot: Snapshot


class Verification:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        settings = ctx.settings
        self._ip_limit = ratelimit.RateLimiter(
            limit=settings.ip_rate_limit, window=settings.ip_rate_window_seconds
        )

    def verify(
        self,
        realm: str,
        user_id: str,
        code: str,
        *,
        client_ip: str | None,
        user_agent: str | None = None,
        purpose: str = "login",
        keycloak_locked: bool = False,
    ) -> VerifyResult:
        """Check and consume one code; every failure is ``valid=False`` with a machine reason."""
        check_ids(realm, user_id)
        if purpose not in rules.PURPOSES:
            raise InvalidRequest(f"purpose must be one of {', '.join(rules.PURPOSES)}")
        attempt = Attempt(
            realm=realm,
            user_id=user_id,
            purpose=Purpose(purpose),
            client_ip=canonical_client_ip(client_ip),
            user_agent=user_agent,
            keycloak_locked=bool(keycloak_locked) and purpose == Purpose.RECOVERY,
        )
        try:
            canonical: str | None = codes.parse(code) if isinstance(code, str) else codes.parse("")
        except codes.MalformedCode:
            canonical = None  # refused after the rate limit has counted it
        now = self._ctx.clock()
        admitted = self._admit(attempt, canonical, now)
        if isinstance(admitted, VerifyResult):
            return admitted
        snapshot, outcome, batch = admitted
        assert canonical is not None  # a malformed code never gets past the admission
        candidate = snapshot.candidate
        matched = hash_in_flight(
            self._ctx, attempt, candidate.code_hash if candidate else None, canonical, outcome, batch
        )
        with self._ctx.engine.begin() as conn:
            if matched and candidate is not None and not candidate.used:
                remaining = code_rows.consume(conn, realm, user_id, candidate.code_id, attempt.client_ip, now)
                if remaining is not None:
                    return self._succeed(conn, attempt, snapshot, batch, remaining, now)
            reason = rules.failure_reason(outcome, matched, snapshot.unused)
            return self._fail(conn, attempt, snapshot, outcome, batch, reason, now)

    def _admit(
        self, attempt: Attempt, canonical: str | None, now: datetime
    ) -> VerifyResult | tuple[Snapshot, lock_rules.Outcome, int]:
        """Before the hash, in one short transaction: rate limit, the read, the decision and its write."""
        selector = codes.selector_of(canonical) if canonical is not None else ""
        with self._ctx.engine.begin() as conn:
            counted = self._count_and_read(conn, attempt, selector, now)
            if not counted.allowed:
                return self._refuse(conn, attempt, rules.RATE_LIMITED, now)
            if canonical is None:
                return self._refuse(conn, attempt, rules.MALFORMED, now)
            snapshot = counted.snapshot
            decision = rules.decide(snapshot, attempt.purpose, now)
            if decision.forget_failures:
                lock_rows.release_expired(
                    conn, attempt.realm, attempt.user_id, snapshot.policy.max_failures, now
                )
            if decision.refusal is not None:
                return self._refuse(conn, attempt, decision, now)
            if decision.outcome == lock_rules.UNKNOWN_USER:
                return snapshot, lock_rules.UNKNOWN_USER, 0
            return self._reserve(conn, attempt, snapshot, now)

    def _reserve(
        self, conn: Connection, attempt: Attempt, snapshot: Snapshot, now: datetime
    ) -> VerifyResult | tuple[Snapshot, lock_rules.Outcome, int]:
        """The decision's write: a place in flight, taken only if the counter still allows it."""
        realm, user_id, limit = attempt.realm, attempt.user_id, snapshot.policy.max_failures
        admission = lock_rows.reserve(conn, realm, user_id, limit, now)
        if admission is None:
            # A racing attempt changed the counter since the read (or deleted the user): decide again.
            admission = lock_rows.admit(conn, realm, user_id, max_failures=limit, now=now)
        if admission.outcome == lock_rules.BUSY:
            return self._refuse(conn, attempt, Decision(refusal=Reason.BUSY), now)
        if admission.outcome == lock_rules.LOCKED:
            lock = lock_rules.blocking(lock_rows.list_locks(conn, realm, user_id, now), attempt.purpose)
            return self._refuse(conn, attempt, Decision(refusal=Reason.LOCKED, locked_until=lock.until), now)
        return snapshot, admission.outcome, admission.batch

    def _count_and_read(self, conn: Connection, attempt: Attempt, selector: str, now: datetime) -> Counted:
        """The rate limit's count and the decision's read, in one statement when the limit is on.

        Counted per realm and client: a realm's Keycloak (or its key) names the client address, so a
        shared count would let one realm spend the budget another realm's users sign in from.
        """
        settings = self._ctx.settings
        params = reads.params(attempt.realm, attempt.user_id, selector)
        if not self._ip_limit.enabled:
            snapshot = reads.read(conn, attempt.realm, attempt.user_id, selector, settings, now)
            return Counted(allowed=True, snapshot=snapshot)
        client = ratelimit.client_key(attempt.client_ip, ipv6_prefix=settings.ip_rate_ipv6_prefix)
        decision = self._ip_limit.hit(
            conn,
            f"verify:{attempt.realm}:{client}",
            epoch_seconds=int(now.timestamp()),
            statement=reads.COUNT_AND_READ,
            params=params,
        )
        return Counted(allowed=decision.allowed, snapshot=reads.snapshot(decision.row, settings, now))

    def _refuse(self, conn: Connection, attempt: Attempt, decision: Decision, now: datetime) -> VerifyResult:
        assert decision.refusal is not None
        if decision.audit:
            self._record_failure(conn, attempt, decision.refusal, now)
        return VerifyResult(valid=False, reason=decision.refusal, locked_until=decision.locked_until)

    def _succeed(
        self,
        conn: Connection,
        attempt: Attempt,
        snapshot: Snapshot,
        batch: int,
        remaining: int,
        now: datetime,
    ) -> VerifyResult:
        realm, user_id, policy = attempt.realm, attempt.user_id, snapshot.policy
        recovery = attempt.purpose == Purpose.RECOVERY
        lock_rows.settle_success(conn, realm, user_id, batch, now, require_enrolment=recovery)
        result = rules.success(remaining, policy)
        assert snapshot.candidate is not None
        self._ctx.events.record(
            conn,
            "used",
            realm,
            user_id,
            actor=user_id,
            at=now,
            client_ip=attempt.client_ip,
            user_agent=attempt.user_agent,
            details={
                "set_id": snapshot.candidate.set_id,
                "remaining": remaining,
                "purpose": attempt.purpose.value,
            },
            mail=None if recovery else "code_used",
            contact=snapshot.contact,
            mail_context=seen(attempt, now, remaining=remaining),
        )
        if recovery:
            cleared = recover(self._ctx, conn, attempt, remaining, now, contact=snapshot.contact)
            return VerifyResult(
                True, Reason.OK, remaining, result.low, enroll_required=True, cleared_locks=cleared
            )
        if result.announce_low:
            context = {"remaining": remaining, "threshold": policy.low_threshold}
            self._ctx.events.mail(conn, realm, user_id, "codes_low", context, contact=snapshot.contact)
        return VerifyResult(True, Reason.OK, remaining, result.low, enroll_required=snapshot.enroll_required)

    def _fail(
        self,
        conn: Connection,
        attempt: Attempt,
        snapshot: Snapshot,
        outcome: lock_rules.Outcome,
        batch: int,
        reason: Reason,
        now: datetime,
    ) -> VerifyResult:
        settled = lock_rules.Settled(failed_attempts=0)  # an unknown user has no counter
        if outcome == lock_rules.COUNTED:
            policy = snapshot.policy
            settled = lock_rows.settle_failure(
                conn,
                attempt.realm,
                attempt.user_id,
                batch,
                max_failures=policy.max_failures,
                lockout_seconds=policy.lockout_seconds,
                lockout_max_seconds=policy.lockout_max_seconds,
                now=now,
            )
        self._record_failure(conn, attempt, reason, now, failed_attempts=settled.failed_attempts)
        placed = settled.placed_lock_until
        if placed is not None:  # this failure reached the limit and placed the lock, in this transaction
            self._ctx.events.record(
                conn,
                "locked",
                attempt.realm,
                attempt.user_id,
                actor="system",
                at=now,
                client_ip=attempt.client_ip,
                details={
                    "source": lock_rules.CODES,
                    "kind": lock_rules.TEMPORARY,
                    "until": placed.isoformat(),
                },
                mail="locked",
                contact=snapshot.contact,
                mail_context=seen(attempt, now, until=placed.isoformat()),
            )
        return VerifyResult(
            valid=False, reason=reason, enroll_required=snapshot.enroll_required, locked_until=placed
        )

    def _record_failure(
        self, conn: Connection, attempt: Attempt, reason: Reason, now: datetime, **details: int
    ) -> None:
        """The audit event of a failed attempt, whether refused before the hash or after it."""
        self._ctx.events.record(
            conn,
            "failed",
            attempt.realm,
            attempt.user_id,
            actor=attempt.user_id,
            at=now,
            client_ip=attempt.client_ip,
            user_agent=attempt.user_agent,
            details={"reason": reason.value, "purpose": attempt.purpose.value, **details},
        )


def hash_in_flight(
    ctx: Context,
    attempt: Attempt,
    stored: str | None,
    canonical: str,
    outcome: lock_rules.Outcome,
    batch: int,
) -> bool:
    """The one Argon2 evaluation; if it raises, give the attempt's place in flight back first."""
    try:
        return bool(ctx.hasher.verify(stored, attempt.realm, attempt.user_id, canonical))
    except BaseException:
        if outcome == lock_rules.COUNTED:
            # Best effort: if the database is gone too, the place expires (IN_FLIGHT_SECONDS).
            with contextlib.suppress(SQLAlchemyError), ctx.engine.begin() as conn:
                lock_rows.release(conn, attempt.realm, attempt.user_id, batch)
        raise


def seen(attempt: Attempt, now: datetime, **more: object) -> dict[str, object]:
    """The mail context of an attempt: when, and from which address and browser."""
    return {"when": now.isoformat(), **more, "client_ip": attempt.client_ip, "user_agent": attempt.user_agent}
