"""Where the bridge mails a user: replace, patch, read and delete the contact record.

A changed (or removed) email address is announced to both the old and the new address, so a hijacker
redirecting the mail cannot do it silently. Setting the first address sends nothing (an initial
directory sync would otherwise greet everyone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.engine import Connection

from bridge.domain import contacts as rules
from bridge.domain.ids import check_ids
from bridge.domain.results import Contact
from bridge.service.context import Context
from bridge.store import contacts as rows


class Contacts:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def set(
        self,
        realm: str,
        user_id: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        locale: str | None = None,
        display_name: str | None = None,
        source: str = "api",
        actor: str,
    ) -> None:
        """Replace the user's contact record (a field passed as None is cleared)."""
        check_ids(realm, user_id)
        new = rules.validated(email, phone, locale, display_name)
        rules.check_source(source)
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            self._write(conn, realm, user_id, new, source=source, actor=actor, now=now)

    def patch(
        self, realm: str, user_id: str, changes: Mapping[str, str | None], *, source: str = "api", actor: str
    ) -> Contact:
        """Change only the given fields (None clears one), reading and writing in one transaction.

        Keycloak sends just what it knows (a changed email, the locale); a full replace would wipe the
        phone number the directory sync put there.
        """
        check_ids(realm, user_id)
        rules.check_fields(changes)
        rules.check_source(source)
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            old = rows.read(conn, realm, user_id)
            merged = {name: getattr(old, name) if old else None for name in rules.CONTACT_FIELDS}
            merged.update(changes)
            new = rules.validated(merged["email"], merged["phone"], merged["locale"], merged["display_name"])
            self._write(conn, realm, user_id, new, source=source, actor=actor, now=now)
            contact = rows.read(conn, realm, user_id)
        assert contact is not None  # just written
        return contact

    def get(self, realm: str, user_id: str) -> Contact | None:
        with self._ctx.engine.connect() as conn:
            return rows.read(conn, realm, user_id)

    def delete(self, realm: str, user_id: str, *, actor: str) -> bool:
        check_ids(realm, user_id)
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            removed = rows.delete_one(conn, realm, user_id)
            if removed:
                self._ctx.events.record(
                    conn,
                    "contact_changed",
                    realm,
                    user_id,
                    actor=actor,
                    at=now,
                    details={"changed": ["deleted"]},
                )
        return removed > 0

    def _write(
        self,
        conn: Connection,
        realm: str,
        user_id: str,
        new: dict[str, str | None],
        *,
        source: str,
        actor: str,
        now: datetime,
    ) -> None:
        """Store validated fields; a changed or removed email is mailed to both addresses."""
        old = rows.read(conn, realm, user_id)
        before = {name: getattr(old, name) for name in new} if old else dict.fromkeys(new)
        changed = sorted(name for name in new if new[name] != before[name])
        if not changed and old is not None and old.source == source:
            return
        rows.upsert(conn, realm, user_id, new, source=source, now=now)
        if not changed:
            return
        self._ctx.events.record(
            conn,
            "contact_changed",
            realm,
            user_id,
            actor=actor,
            at=now,
            details={"changed": changed, "source": source},
        )
        if "email" in changed and before["email"]:
            context = {"old_email": before["email"], "new_email": new["email"], "when": now.isoformat()}
            for address in dict.fromkeys(a for a in (before["email"], new["email"]) if a):
                self._ctx.events.mail(
                    conn, realm, user_id, "email_changed", context, to_address=address, locale=new["locale"]
                )
