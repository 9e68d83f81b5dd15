"""What a successful recovery code does besides consuming itself (reset-credentials flow, lock recovery).

It lifts the temporary Keycloak and directory locks, requires a new set and tells the user. Deleting
the ``directory`` row is what the LDAP sync's ``push_unlocks`` looks for to clear the lock in the
directory too. NIST SP 800-63B-4 §4.2.1.1: a used recovery code is replaced by a new set, and account
recovery always notifies the subscriber.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.engine import Connection

from bridge.domain import locks as lock_rules
from bridge.domain.verification import Attempt
from bridge.service.context import Context
from bridge.store import locks as lock_rows

RECOVERY_ACTOR = "recovery"


def recover(
    ctx: Context,
    conn: Connection,
    attempt: Attempt,
    remaining: int,
    now: datetime,
    *,
    contact: Mapping[str, str | None] | None,
) -> tuple[str, ...]:
    """Lift and tell, in the verification's result transaction; returns the sources lifted.

    The new set is required by the success's own write of the users row
    (:func:`bridge.store.locks.settle_success`), and ``contact`` is the one the verification read
    before the hash: neither costs a statement here.
    """
    realm, user_id = attempt.realm, attempt.user_id
    cleared = set(lock_rows.delete_recoverable(conn, realm, user_id, now))
    if attempt.keycloak_locked:
        cleared.add("keycloak")  # the provider lifted Keycloak's own lock; the bridge records it
    ordered = tuple(sorted(cleared))
    for source in ordered:
        _record_unlock(ctx, conn, attempt, source, now)
    ctx.events.mail(
        conn,
        realm,
        user_id,
        "account_recovered",
        {
            "when": now.isoformat(),
            "remaining": remaining,
            "lock_lifted": bool(ordered),
            "client_ip": attempt.client_ip,
            "user_agent": attempt.user_agent,
        },
        contact=contact,
    )
    return ordered


def _record_unlock(ctx: Context, conn: Connection, attempt: Attempt, source: str, now: datetime) -> None:
    ctx.events.record(
        conn,
        "unlocked",
        attempt.realm,
        attempt.user_id,
        actor=RECOVERY_ACTOR,
        at=now,
        client_ip=attempt.client_ip,
        user_agent=attempt.user_agent,
        details={
            "source": source,
            "kind": lock_rules.TEMPORARY,
            "reason": "account recovered with a backup code",
        },
    )
