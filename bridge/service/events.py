"""One call for what every change writes: its audit row and, when the user is told, its outbox mail.

Both go into the caller's transaction, so the trail, the mail and the change commit together or not at
all. Mail goes through ``bridge.notify`` when that module is installed (it ships separately), or through
the ``enqueue`` a caller injects (tests).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bridge.store import audit

Enqueue = Callable[..., int | None]


def _notify_module_enqueue(conn: Connection, **kwargs: Any) -> int | None:
    if importlib.util.find_spec("bridge.notify") is None:
        return None
    notify = importlib.import_module("bridge.notify")
    return notify.enqueue(conn, **kwargs)


class Events:
    def __init__(self, enqueue: Enqueue | None = None) -> None:
        self._enqueue = enqueue or _notify_module_enqueue

    def record(
        self,
        conn: Connection,
        event: str,
        realm: str,
        user_id: str | None,
        *,
        actor: str,
        at: datetime,
        details: dict[str, Any],
        client_ip: str | None = None,
        user_agent: str | None = None,
        mail: str | None = None,
        mail_context: Mapping[str, Any] | None = None,
        contact: Any = ...,
    ) -> None:
        """The audit row of ``event``; with ``mail``, the user's mail of that kind too."""
        audit.record(
            conn,
            event=event,
            realm=realm,
            user_id=user_id,
            actor=actor,
            client_ip=client_ip,
            user_agent=user_agent,
            details=details,
            at=at,
        )
        if mail is not None and user_id is not None:
            self.mail(conn, realm, user_id, mail, mail_context or {}, contact=contact)

    def mail(
        self,
        conn: Connection,
        realm: str,
        user_id: str,
        kind: str,
        context: Mapping[str, Any],
        *,
        to_address: str | None = None,
        locale: str | None = None,
        contact: Any = ...,
    ) -> None:
        """Queue one mail to the user (or to ``to_address``), in the caller's transaction.

        ``contact``: the user's contact as the caller read it already (None: none), so the outbox need
        not look it up again; ``...``: not read.
        """
        extra = {} if contact is ... else {"contact": contact}
        self._enqueue(
            conn,
            realm=realm,
            user_id=user_id,
            kind=kind,
            context=dict(context),
            to_address=to_address,
            locale=locale,
            **extra,
        )
