"""The ``contacts`` table: where the bridge mails a user, and in which language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from bridge.domain.results import Contact
from bridge.store.db import as_utc, insert_for
from bridge.store.schema import contacts


def read(conn: Connection, realm: str, user_id: str) -> Contact | None:
    row = conn.execute(
        select(contacts).where(contacts.c.realm == realm, contacts.c.user_id == user_id)
    ).first()
    if row is None:
        return None
    return Contact(
        email=row.email,
        phone=row.phone,
        locale=row.locale,
        display_name=row.display_name,
        source=row.source,
        updated_at=as_utc(row.updated_at),  # type: ignore[arg-type]
    )


def upsert(
    conn: Connection, realm: str, user_id: str, fields: dict[str, str | None], *, source: str, now: datetime
) -> None:
    stmt = insert_for(conn, contacts).values(
        realm=realm, user_id=user_id, source=source, updated_at=now, **fields
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[contacts.c.realm, contacts.c.user_id],
            set_={name: stmt.excluded[name] for name in [*fields, "source", "updated_at"]},
        )
    )


def delete_one(conn: Connection, realm: str, user_id: str) -> int:
    return conn.execute(
        delete(contacts).where(contacts.c.realm == realm, contacts.c.user_id == user_id)
    ).rowcount
