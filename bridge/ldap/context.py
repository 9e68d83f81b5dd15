"""The parts one realm's sync is made of, handed to each pass (poll, reconcile, write-back, run loop)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bridge.ldap.connection import LdapDirectory
from bridge.ldap.entries import AccountReader, EntryStore
from bridge.ldap.lease import Lease
from bridge.ldap.profiles import Profile
from bridge.ldap.state import JobState
from bridge.settings import Settings


@dataclass
class SyncContext:
    """Everything a pass reads or writes besides the service; ``stop_event`` ends it at a safe point."""

    engine: Engine
    settings: Settings
    realm: str
    profile: Profile
    directory: LdapDirectory
    reader: AccountReader
    entries: EntryStore
    state: JobState
    lease: Lease
    clock: Callable[[], datetime]
    stop_event: threading.Event = field(default_factory=threading.Event)

    @property
    def overlap(self) -> timedelta:
        return timedelta(seconds=self.settings.ldap_poll_overlap_seconds)
