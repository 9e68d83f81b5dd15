"""The ``rate_limits`` table's one hot statement: count a request in its window, atomically.

``INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count``, so concurrent processes never
lose a count. A caller that needs to read something in the same breath (a verification reads
everything its decision needs) adds columns to the ``RETURNING`` list: one statement instead of two.
"""

from __future__ import annotations

from typing import Any

from bridge.store.db import Upsert
from bridge.store.schema import rate_limits


def counting(*also: Any) -> Upsert:
    """The counting upsert returning ``count`` and the ``also`` columns (scalar subqueries)."""
    return Upsert(
        lambda insert: (
            insert(rate_limits)
            .on_conflict_do_update(
                index_elements=[rate_limits.c.key, rate_limits.c.window_start],
                set_={"count": rate_limits.c.count + 1},
            )
            .returning(rate_limits.c.count, *also)
        )
    )
