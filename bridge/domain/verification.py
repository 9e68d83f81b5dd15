"""One verification as a pure decision: what the database said (a :class:`Snapshot`) in, what to do out.

The service reads everything a verification needs in one statement, asks :func:`decide` whether to
refuse it before any hashing or to go on to the one Argon2 evaluation, writes that decision in one
statement, hashes outside any transaction, and settles the outcome (:func:`failure_reason`,
:func:`success`) in one short transaction. The order of the checks is the documented one:

1. rate limit (per realm and client) — ``rate_limited``, nothing else counted or recorded;
2. malformed input — ``malformed``, audited;
3. an active lock that blocks this purpose (a recovery is not refused by the temporary Keycloak or
   directory lock it exists to lift) — ``locked``, audited, with the lock's end;
4. the failure counter with the attempts in flight (:func:`bridge.domain.locks.admission`): settled
   failures at the limit whose lock has run out are forgotten first; attempts still in flight that fill
   the limit — ``busy``, nothing counted or used, retryable;
5. otherwise hash: ``counted`` for a known user, ``unknown_user`` (no counter, still one hash) else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bridge.domain import locks
from bridge.domain.locks import Lock, Outcome
from bridge.domain.policy import Policy
from bridge.domain.results import Reason


class Purpose(StrEnum):
    LOGIN = "login"
    RECOVERY = "recovery"


PURPOSES = tuple(purpose.value for purpose in Purpose)


@dataclass(frozen=True)
class Attempt:
    """Who asks, for what, from where: what the audit rows and mails of the attempt name."""

    realm: str
    user_id: str
    purpose: Purpose
    client_ip: str | None
    user_agent: str | None
    keycloak_locked: bool  # the provider lifted Keycloak's own lock (recovery only)


@dataclass(frozen=True)
class Candidate:
    """The user's code row whose selector matches the input (absent: the dummy hash is checked)."""

    code_id: int
    code_hash: str
    used: bool
    set_id: str


@dataclass(frozen=True)
class Snapshot:
    """Everything the decision needs, read in one statement."""

    policy: Policy
    known: bool  # the user has a row (a counter); an unknown user is still hashed against the dummy
    failed_attempts: int = 0
    in_flight: int = 0  # already void-aware (locks.live_in_flight)
    enroll_required: bool = False
    locks: tuple[Lock, ...] = ()
    candidate: Candidate | None = None
    unused: int = 0  # the user's unused codes
    contact: dict[str, str | None] | None = None  # email, locale, display_name: where a mail goes


@dataclass(frozen=True)
class Decision:
    """Refuse before hashing (``refusal`` set) or hash (``outcome`` counted or unknown_user).

    ``forget_failures``: the counter sits at the limit but its lock has run out, so the write first
    resets it (the first attempt after a lock starts afresh). ``audit``: the refusal is recorded as a
    failed attempt (locked, malformed); busy and rate_limited are not failures of anyone.
    """

    refusal: Reason | None = None
    outcome: Outcome | None = None
    locked_until: datetime | None = None
    forget_failures: bool = False

    @property
    def audit(self) -> bool:
        return self.refusal in (Reason.LOCKED, Reason.MALFORMED)


RATE_LIMITED = Decision(refusal=Reason.RATE_LIMITED)
MALFORMED = Decision(refusal=Reason.MALFORMED)


def decide(snapshot: Snapshot, purpose: Purpose, now: datetime) -> Decision:
    """Steps 3 to 5 above (the rate limit and the input's shape are settled before the read)."""
    lock = locks.blocking(snapshot.locks, purpose)
    if lock.locked:
        return Decision(refusal=Reason.LOCKED, locked_until=lock.until)
    if not snapshot.known:
        return Decision(outcome=locks.UNKNOWN_USER)
    failed = snapshot.failed_attempts
    limit = snapshot.policy.max_failures
    # At the limit with no active lock of the bridge's own (it would have refused above): it ran out.
    forget = failed >= limit
    outcome = locks.admission(0 if forget else failed, snapshot.in_flight, limit)
    if outcome == locks.BUSY:
        return Decision(refusal=Reason.BUSY, forget_failures=forget)
    return Decision(outcome=locks.COUNTED, forget_failures=forget)


def failure_reason(outcome: Outcome, matched: bool, unused: int) -> Reason:
    """Why a hashed attempt failed: ``matched`` is the right code, used already (or by a racing request)."""
    if outcome == locks.UNKNOWN_USER:
        return Reason.UNKNOWN_USER
    if matched:
        return Reason.USED
    if unused == 0:
        return Reason.NO_CODES
    return Reason.INVALID


@dataclass(frozen=True)
class Success:
    """What a consumed code means: how many are left, whether that is few, what to mail."""

    remaining: int
    low: bool
    announce_low: bool  # exactly at the threshold: the "few codes left" mail goes out once


def success(remaining: int, policy: Policy) -> Success:
    return Success(
        remaining=remaining,
        low=remaining <= policy.low_threshold,
        announce_low=remaining == policy.low_threshold,
    )
