"""The full reconcile: every entry under the base DN (paged), then delete what the directory no longer has.

Deletes are invisible to polling, so this pass runs first, then every ``ldap_full_reconcile_seconds`` (and
on ``once --full``). It refuses to delete anything when it saw no entry at all: a wrong base DN or a
service account that lost its read access must not wipe the realm.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bridge.ldap.apply import Applier, stamp_of
from bridge.ldap.connection import DirectoryUnavailable
from bridge.ldap.context import SyncContext
from bridge.ldap.poll import next_watermark, window_state
from bridge.ldap.state import ERRORS, SCANNED, PassResult
from bridge.ldap.values import parse_generalized_time


def reconcile(ctx: SyncContext, applier: Applier) -> PassResult:
    """Full: every entry under the base DN (paged), then delete what the directory no longer has."""
    started = ctx.clock()
    result = PassResult("full")
    known = ctx.entries.all()
    touched: dict[str, list[str]] = {}
    max_seen = _scan(ctx, applier, known, touched, result)
    gone = [row for ldap_id, row in known.items() if ldap_id not in touched]
    if gone and not touched:
        ERRORS.labels("reconcile_empty").inc()
        raise DirectoryUnavailable(
            f"full reconcile saw no entries under {ctx.settings.ldap_base_dn}; refusing to delete "
            f"{len(gone)} users (check the base DN, filter and the service account's read access)"
        )
    for row in gone:
        applier.check_stop()
        applier.delete(row, result)
    state = ctx.state.load()
    old_hwm = parse_generalized_time(state["hwm"]) if state.get("hwm") else None
    new_hwm = next_watermark(old_hwm, max_seen, started)
    ctx.state.save({**window_state(ctx, touched, new_hwm, started), "last_full": ctx.clock().isoformat()})
    return result


def _scan(
    ctx: SyncContext,
    applier: Applier,
    known: dict[str, Any],
    touched: dict[str, list[str]],
    result: PassResult,
) -> datetime | None:
    """Apply every entry; ``touched`` gets each present id's markers. Returns the newest stamp seen."""
    max_seen: datetime | None = None
    for page in ctx.directory.pages(ctx.settings.ldap_user_filter, ctx.reader.attributes):
        ctx.lease.keep()
        for dn, raw in page:
            applier.check_stop()
            result.scanned += 1
            SCANNED.labels("full").inc()
            ldap_id = ctx.reader.raw_id(raw)
            marker, modified = ctx.reader.markers(raw)
            if modified and (max_seen is None or modified > max_seen):
                max_seen = modified
            if ldap_id is None:
                applier.malformed(dn, "no id attribute", result)
                continue
            # present even if malformed below: it exists, so it must not be deleted
            touched[ldap_id] = stamp_of(marker, modified)
            applier.apply_entry(dn, raw, known.get(ldap_id), result)
        applier.flush()
    return max_seen
