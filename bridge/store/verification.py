"""The one read of a verification: policy, failure counter, locks, candidate row, unused count, contact.

Every value is a scalar subquery (each an index lookup), so the whole read is one row that can ride
on the rate-limit count's ``RETURNING`` list (:data:`COUNT_AND_READ`): a verification's count and read
are one statement. A lock is read per source (at most one row each). The subqueries opt out of
correlation: they read their own tables, never a row of the statement they sit in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from bridge.domain import locks as lock_rules
from bridge.domain.locks import Lock
from bridge.domain.policy import from_stored
from bridge.domain.verification import Candidate, Snapshot
from bridge.settings import Settings
from bridge.store.db import as_utc
from bridge.store.rate_limits import counting
from bridge.store.schema import codes, contacts, locks, policies, users


def _columns() -> list[Any]:
    realm, user_id = bindparam("p_realm"), bindparam("p_user_id")

    def scalar(column: Any, *where: Any, label: str) -> Any:
        return select(column).where(*where).correlate(None).scalar_subquery().label(label)

    of_user = (users.c.realm == realm, users.c.user_id == user_id)
    candidate = (
        codes.c.realm == realm,
        codes.c.user_id == user_id,
        codes.c.selector == bindparam("p_selector"),
    )
    columns = [
        scalar(policies.c.settings, policies.c.realm == realm, label="policy"),
        scalar(
            func.count(codes.c.id),
            codes.c.realm == realm,
            codes.c.user_id == user_id,
            codes.c.used_at.is_(None),
            label="unused",
        ),
        *(
            scalar(column, *of_user, label=column.name)
            for column in (
                users.c.user_id,
                users.c.failed_attempts,
                users.c.in_flight,
                users.c.in_flight_until,
                users.c.enroll_required,
            )
        ),
        *(scalar(column, *candidate, label=f"code_{column.name}") for column in (codes.c.id, codes.c.hash)),
        *(scalar(column, *candidate, label=column.name) for column in (codes.c.used_at, codes.c.set_id)),
    ]
    of_contact = (contacts.c.realm == realm, contacts.c.user_id == user_id)
    columns += [
        scalar(contacts.c.realm, *of_contact, label="contact_known"),
        *(
            scalar(column, *of_contact, label=f"contact_{column.name}")
            for column in (contacts.c.email, contacts.c.locale, contacts.c.display_name)
        ),
    ]
    for source in lock_rules.SOURCES:
        of_source = (locks.c.realm == realm, locks.c.user_id == user_id, locks.c.source == source)
        columns += [
            scalar(column, *of_source, label=f"{source}_{column.name}")
            for column in (locks.c.kind, locks.c.locked_at, locks.c.expires_at)
        ]
    return columns


# Built once: building a statement costs more than running it on SQLite (about 150 µs against 35).
COUNT_AND_READ = counting(*_columns())
_READ = select(*_columns())  # when the rate limit is off


def params(realm: str, user_id: str, selector: str) -> dict[str, str]:
    return {"p_realm": realm, "p_user_id": user_id, "p_selector": selector}


def read(
    conn: Connection, realm: str, user_id: str, selector: str, settings: Settings, now: datetime
) -> Snapshot:
    return snapshot(conn.execute(_READ, params(realm, user_id, selector)).one(), settings, now)


def snapshot(row: Any, settings: Settings, now: datetime) -> Snapshot:
    """The :class:`Snapshot` of a row of :data:`COUNT_AND_READ` (or of the plain read)."""
    candidate = None
    if row.code_id is not None:
        candidate = Candidate(
            code_id=row.code_id, code_hash=row.code_hash, used=row.used_at is not None, set_id=row.set_id
        )
    return Snapshot(
        policy=from_stored(row.policy, settings),
        known=row.user_id is not None,
        failed_attempts=row.failed_attempts or 0,
        in_flight=lock_rules.live_in_flight(row.in_flight or 0, as_utc(row.in_flight_until), now),
        enroll_required=bool(row.enroll_required),
        locks=tuple(_locks(row, now)),
        candidate=candidate,
        unused=int(row.unused),
        contact=_contact(row),
    )


def _contact(row: Any) -> dict[str, str | None] | None:
    if row.contact_known is None:
        return None
    return {
        "email": row.contact_email,
        "locale": row.contact_locale,
        "display_name": row.contact_display_name,
    }


def _locks(row: Any, now: datetime) -> list[Lock]:
    found = []
    for source in lock_rules.SOURCES:
        kind = getattr(row, f"{source}_kind")
        if kind is None:
            continue
        expires_at = as_utc(getattr(row, f"{source}_expires_at"))
        found.append(
            Lock(
                source=source,
                kind=kind,
                reason="",  # not part of any decision; the lock listings read the whole row
                actor="",
                locked_at=as_utc(getattr(row, f"{source}_locked_at")),  # type: ignore[arg-type]
                expires_at=expires_at,
                active=lock_rules.is_active(kind, expires_at, now),
            )
        )
    return found
