"""Directory entries: raw LDAP entries read as accounts, and the ``directory_entries`` rows remembering them.

``directory_entries`` is the sync's own memory (``ldap_id → user_id``, the fingerprint of the synced
attributes, the lock it last saw), so Keycloak is asked once per entry and an unchanged entry is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select

from bridge.ldap.account import AttributeNames, DirectoryAccount, MalformedEntry, PasswordPolicy
from bridge.ldap.connection import Entry, LdapDirectory
from bridge.ldap.profiles import Profile
from bridge.ldap.state import log
from bridge.ldap.values import first_text, parse_generalized_time
from bridge.settings import Settings
from bridge.store.db import insert_for
from bridge.store.schema import directory_entries

RawEntry = Mapping[str, list[bytes]]


class AccountReader:
    """Turns raw entries into :class:`DirectoryAccount` values, reading each password policy once per pass."""

    def __init__(self, settings: Settings, profile: Profile, directory: LdapDirectory) -> None:
        self.settings = settings
        self.profile = profile
        self.directory = directory
        self.names: AttributeNames = profile.attribute_names(
            ldap_id=settings.ldap_id_attribute,
            username=settings.ldap_username_attribute,
            mail=settings.ldap_mail_attribute,
            mobile=settings.ldap_mobile_attribute,
        )
        self._policies: dict[str, PasswordPolicy | None] = {}

    @property
    def attributes(self) -> list[str]:
        wanted = [
            self.names.ldap_id,
            self.names.username,
            self.names.mail,
            self.names.mobile,
            "modifyTimestamp",
            self.profile.change_marker_attribute,
            *self.profile.lock_attributes,
        ]
        return list(dict.fromkeys(wanted))

    def forget_policies(self) -> None:
        """Policies may change between passes: read them afresh."""
        self._policies = {}

    def _policy(self, dn: str) -> PasswordPolicy | None:
        if dn not in self._policies:
            raw = (
                self.directory.read(dn, self.profile.policy_attributes)
                if self.profile.policy_attributes
                else None
            )
            if raw is None and self.profile.policy_attributes:
                log.warning("ldap-sync: lockout policy %s not readable; its locks count as admin locks", dn)
            self._policies[dn] = self.profile.parse_policy(raw) if raw is not None else None
        return self._policies[dn]

    def parse(self, dn: str, raw: RawEntry, now: datetime) -> DirectoryAccount:
        policy_dn = self.profile.policy_dn(raw, self.settings.ldap_default_policy_dn)
        policies = (
            {policy_dn: self._policy(policy_dn)} if policy_dn and self.profile.policy_attributes else {}
        )
        return self.profile.parse(
            dn,
            raw,
            self.names,
            policies=policies,
            default_policy_dn=self.settings.ldap_default_policy_dn,
            now=now,
        )

    def raw_id(self, raw: RawEntry) -> str | None:
        try:
            return self.profile.read_id(raw, self.names.ldap_id)
        except MalformedEntry:
            return None

    def markers(self, raw: RawEntry) -> tuple[str | None, datetime | None]:
        """The entry's change marker (entryCSN, uSNChanged, else modifyTimestamp) and modifyTimestamp."""
        try:
            marker = first_text(raw, self.profile.change_marker_attribute)
            stamp = first_text(raw, "modifyTimestamp")
            return marker or stamp, parse_generalized_time(stamp) if stamp else None
        except MalformedEntry:
            return None, None


class EntryStore:
    """One realm's ``directory_entries`` rows."""

    def __init__(self, engine: Engine, realm: str) -> None:
        self.engine = engine
        self.realm = realm

    def known(self, ids: Iterable[str]) -> dict[str, Any]:
        """The rows of these LDAP ids, by id (one page's worth)."""
        wanted = list(ids)
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(directory_entries).where(directory_entries.c.ldap_id.in_(wanted)))
            return {row.ldap_id: row for row in rows if row.realm == self.realm}

    def all(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return {
                row.ldap_id: row
                for row in conn.execute(
                    select(directory_entries).where(directory_entries.c.realm == self.realm)
                )
            }

    def upsert(self, rows: list[dict[str, Any]]) -> None:
        """Write a page of entries' new state in one transaction."""
        with self.engine.begin() as conn:
            stmt = insert_for(conn, directory_entries)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[directory_entries.c.ldap_id],
                    set_={name: stmt.excluded[name] for name in rows[0] if name != "ldap_id"},
                ),
                rows,
            )

    def delete(self, ldap_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(directory_entries).where(directory_entries.c.ldap_id == ldap_id))

    def temporarily_locked(self, now: datetime) -> list[Any]:
        """Entries whose directory lock (as last read) is temporary and still running."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(directory_entries).where(
                        directory_entries.c.realm == self.realm,
                        directory_entries.c.lock_kind == "temporary",
                        directory_entries.c.lock_expires_at > now,
                    )
                ).all()
            )

    def of_users(self, user_ids: Iterable[str]) -> dict[str, list[Any]]:
        """The entries mapped to these users, by user id (more than one entry may map to a user)."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(directory_entries).where(
                    directory_entries.c.realm == self.realm, directory_entries.c.user_id.in_(wanted)
                )
            ).all()
        found: dict[str, list[Any]] = {}
        for row in rows:
            found.setdefault(row.user_id, []).append(row)
        return found

    def counts(self) -> tuple[int, int]:
        """(entries mapped, entries locked) for ``status``."""
        with self.engine.connect() as conn:
            mapped = conn.execute(
                select(directory_entries.c.ldap_id).where(directory_entries.c.realm == self.realm)
            ).all()
            locked = conn.execute(
                select(directory_entries.c.ldap_id).where(
                    directory_entries.c.realm == self.realm,
                    directory_entries.c.lock_kind.in_(["temporary", "permanent", "disabled"]),
                )
            ).all()
        return len(mapped), len(locked)


def entry_ids(reader: AccountReader, page: list[Entry]) -> list[str]:
    return [i for i in (reader.raw_id(raw) for _, raw in page) if i]
