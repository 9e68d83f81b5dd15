"""The ``policies`` table: one validated JSON document per realm that overrides the defaults."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from bridge.domain.policy import Policy, from_stored
from bridge.settings import Settings
from bridge.store.db import insert_for, utcnow
from bridge.store.schema import policies

_LOAD = select(policies.c.settings).where(policies.c.realm == bindparam("p_realm"))  # on every verification


def load(conn: Connection, realm: str, settings: Settings) -> Policy:
    """The realm's policy, or the defaults from settings when it has none."""
    return from_stored(conn.execute(_LOAD, {"p_realm": realm}).scalar(), settings)


def save(conn: Connection, realm: str, policy: Policy) -> Policy:
    policy.validated()
    stmt = insert_for(conn, policies).values(realm=realm, settings=policy.to_dict(), updated_at=utcnow())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[policies.c.realm],
            set_={"settings": stmt.excluded.settings, "updated_at": stmt.excluded.updated_at},
        )
    )
    return policy
