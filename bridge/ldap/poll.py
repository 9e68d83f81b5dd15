"""Change detection: the incremental poll and the watermark rules it shares with the full reconcile.

Why polling: ldap3 has no RFC 4533 syncrepl and OpenLDAP has no persistent search, so the portable
change feed is ``modifyTimestamp >= watermark`` (reference ldap.md §3). The watermark lives in
``job_state`` and moves only after a batch has been applied; each poll re-reads an overlap window
below it (1 s timestamps, clock skew between replicas) and skips what it already applied (change
marker per entry, then a fingerprint of the synced attributes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bridge.ldap.apply import Applier, stamp_of
from bridge.ldap.context import SyncContext
from bridge.ldap.entries import entry_ids
from bridge.ldap.state import SCANNED, PassResult, parse_iso
from bridge.ldap.values import format_generalized_time, parse_generalized_time

MAX_SEEN = 50_000  # bound on the de-duplication map kept in job_state


def poll_window_start(hwm: datetime, polled_at: datetime | None, overlap: timedelta) -> datetime:
    """Lower bound of the next poll's ``modifyTimestamp`` filter.

    The overlap below the watermark catches a change that became visible after a poll although its stamp
    is a little older than what that poll saw (1 s stamps, a write committed late, clock skew). But the
    watermark only moves when something changes, so on an idle directory the same window was re-read at
    every poll, forever (0.85 s per idle poll at 10,000 entries when a bulk load filled it). A poll that
    started at ``polled_at`` saw everything stamped before then, so a change that shows up later carries a
    stamp of at least ``polled_at - overlap`` (commit lag) ``- overlap`` (bridge clock ahead of the
    directory's by up to the overlap): the window never starts earlier than that.
    """
    start = hwm - overlap
    if polled_at is not None:
        start = max(start, polled_at - 2 * overlap)
    return start


def next_watermark(old: datetime | None, max_seen: datetime | None, started: datetime) -> datetime:
    """Never past the pass's start: a change made while paging may be older than a later page's stamp."""
    candidate = min(max_seen, started) if max_seen else started
    if old is not None and candidate < old:
        return old
    return candidate


def bounded(seen: dict[str, list[str]]) -> dict[str, list[str]]:
    if len(seen) <= MAX_SEEN:
        return seen
    newest = sorted(seen.items(), key=lambda item: item[1][1], reverse=True)[:MAX_SEEN]
    return dict(newest)


def window_state(
    ctx: SyncContext, seen: dict[str, list[str]], new_hwm: datetime, started: datetime
) -> dict[str, Any]:
    """The state after a pass: the new watermark, and the markers still inside the next poll's window."""
    floor = format_generalized_time(poll_window_start(new_hwm, started, ctx.overlap))
    kept = {key: value for key, value in seen.items() if value[1] and value[1] >= floor}
    return {
        "hwm": format_generalized_time(new_hwm),
        "seen": bounded(kept),
        "polled_at": started.isoformat(),
    }


def poll(ctx: SyncContext, applier: Applier, state: dict[str, Any]) -> PassResult:
    """Incremental: entries modified since the watermark (minus the overlap); needs ``state["hwm"]``."""
    started = ctx.clock()
    hwm = parse_generalized_time(state["hwm"])
    seen: dict[str, list[str]] = dict(state.get("seen") or {})
    since = poll_window_start(hwm, parse_iso(state.get("polled_at")), ctx.overlap)
    search_filter = f"(&{ctx.settings.ldap_user_filter}(modifyTimestamp>={format_generalized_time(since)}))"
    result = PassResult("poll")
    touched: dict[str, list[str]] = {}
    max_seen = hwm
    for page in ctx.directory.pages(search_filter, ctx.reader.attributes):
        ctx.lease.keep()
        known = ctx.entries.known(entry_ids(ctx.reader, page))
        for dn, raw in page:
            applier.check_stop()
            result.scanned += 1
            SCANNED.labels("poll").inc()
            marker, modified = ctx.reader.markers(raw)
            ldap_id = ctx.reader.raw_id(raw)
            if modified and modified > max_seen:
                max_seen = modified
            if ldap_id is None:
                applier.malformed(dn, "no id attribute", result)
                continue
            touched[ldap_id] = stamp = stamp_of(marker, modified)
            if marker and seen.get(ldap_id) == stamp:
                result.skipped_unchanged += 1
                continue
            applier.apply_entry(dn, raw, known.get(ldap_id), result)
        applier.flush()
    seen.update(touched)
    ctx.state.save(window_state(ctx, seen, next_watermark(hwm, max_seen, started), started))
    return result
