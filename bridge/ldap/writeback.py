"""Bridge → directory: a lock the bridge cleared is cleared in the directory, and optionally a lockout copied.

* A temporary directory lock cleared in the bridge (a code-based recovery, an admin) while it still runs
  in the directory is cleared there too: exactly the value the sync applied, so a lock an admin replaced
  meanwhile (or made permanent) is left alone and applied instead.
* Optionally (``ldap_write_locks``) a bridge lockout for wrong codes locks the directory account.

Admin locks and disabled accounts are never written away. Lock rows are read and audit rows written
through ``bridge.service.directory``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from bridge.ldap.account import MalformedEntry
from bridge.ldap.apply import Applier
from bridge.ldap.context import SyncContext
from bridge.ldap.state import ACTOR, APPLIED, ERRORS, PassResult, log, parse_iso
from bridge.service import directory as service_directory


def push_unlocks(ctx: SyncContext, applier: Applier) -> int:
    """Temporary directory locks the bridge has cleared (code-based recovery) are cleared there too.

    Found as: ``directory_entries`` says a temporary lock is still running, but the bridge holds no
    ``directory`` lock row for the user any more.
    """
    if not ctx.settings.ldap_write_unlocks:
        return 0
    now = ctx.clock()
    running = ctx.entries.temporarily_locked(now)
    still_locked = service_directory.users_with_lock(ctx.engine, ctx.realm, (row.user_id for row in running))
    written = 0
    for row in running:
        if row.user_id in still_locked:
            continue
        applier.check_stop()
        written += _unlock_in_directory(ctx, applier, row, now)
    return written


def _unlock_in_directory(ctx: SyncContext, applier: Applier, row: Any, now: datetime) -> int:
    raw = ctx.directory.read(row.dn, ctx.reader.attributes)
    if raw is None:
        return 0  # gone: the next reconcile deletes it
    try:
        account = ctx.reader.parse(row.dn, raw, now)
    except MalformedEntry:
        return 0
    applied_value = (row.state or {}).get("lock_value")
    changes = ctx.profile.unlock_changes(account.lock)
    result = PassResult("writeback")
    if changes is None or account.lock.value != applied_value:
        # Not the lock the bridge cleared (new, permanent, or gone): the directory's word stands.
        applier.apply(account, row, result)
        applier.flush()
        return 0
    ok, description = ctx.directory.modify(row.dn, changes)
    if not ok:
        ERRORS.labels("writeback").inc()
        log.error("ldap-sync: could not clear the directory lock of %s: %s", row.dn, description)
        return 0
    service_directory.record_directory_write(
        ctx.engine,
        realm=ctx.realm,
        user_id=row.user_id,
        event="unlocked",
        actor=ACTOR,
        details={
            "source": "directory",
            "target": "directory",
            "reason": "cleared in the bridge",
            "dn": row.dn,
        },
    )
    fresh = ctx.directory.read(row.dn, ctx.reader.attributes)
    if fresh is not None:
        with contextlib.suppress(MalformedEntry):
            applier.apply(ctx.reader.parse(row.dn, fresh, ctx.clock()), row, result)
        applier.flush()
    result.count("directory_unlocked")
    return 1


def push_locks(ctx: SyncContext) -> int:
    """Optional: a bridge lockout for wrong codes locks the directory account too (profile permitting).

    Each lockout is written once: ``lock_push_since`` (the newest lockout seen) and ``lock_push_done``
    (the ones at that instant already handled) are kept in the sync's state.
    """
    now = ctx.clock()
    state = ctx.state.load()
    since = parse_iso(state.get("lock_push_since")) or (now - timedelta(seconds=ctx.lease.seconds))
    done: set[str] = set(state.get("lock_push_done") or [])
    written = 0
    newest = since
    for user_id, locked_at, entry in _lockouts_with_entries(ctx, since, now):
        if ctx.stop_event.is_set():
            break  # what is done is saved below; the rest waits for the next pass
        key = f"{user_id}@{locked_at.isoformat()}"
        newest = max(newest, locked_at)
        if key in done:
            continue
        done.add(key)
        written += _lock_in_directory(ctx, user_id, entry, now)
    newest_iso = newest.isoformat()
    ctx.state.save(
        {
            "lock_push_since": newest_iso,
            "lock_push_done": sorted(k for k in done if k.rsplit("@", 1)[1] >= newest_iso),
        }
    )
    return written


def _lockouts_with_entries(
    ctx: SyncContext, since: datetime, now: datetime
) -> list[tuple[str, datetime, Any]]:
    """The lockouts of users the sync has mapped to a directory entry, oldest first."""
    lockouts = service_directory.lockouts_since(ctx.engine, ctx.realm, since, now)
    entries = ctx.entries.of_users(lockout.user_id for lockout in lockouts)
    return [
        (lockout.user_id, lockout.locked_at, entry)
        for lockout in lockouts
        for entry in entries.get(lockout.user_id, [])
    ]


def _lock_in_directory(ctx: SyncContext, user_id: str, entry: Any, now: datetime) -> int:
    changes = ctx.profile.lock_changes(now)
    if changes is None or entry.lock_kind not in (None, "none"):
        return 0  # profile cannot lock over LDAP, or the directory account is locked already
    ok, description = ctx.directory.modify(entry.dn, changes)
    if not ok:
        ERRORS.labels("writeback").inc()
        log.error("ldap-sync: could not lock %s in the directory: %s", entry.dn, description)
        return 0
    service_directory.record_directory_write(
        ctx.engine,
        realm=ctx.realm,
        user_id=user_id,
        event="locked",
        actor=ACTOR,
        details={"source": "codes", "target": "directory", "dn": entry.dn},
    )
    APPLIED.labels("directory_locked").inc()
    return 1
