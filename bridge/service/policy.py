"""Realm policy as a use case: read it, or validate, store and audit a change.

``Policy`` and ``PolicyError`` (the rules) live in :mod:`bridge.domain.policy`; they are imported here
because the CLI and the API import them from this module.
"""

from __future__ import annotations

from typing import Any

from bridge.domain.policy import Policy, PolicyError
from bridge.service.context import Context
from bridge.store import policies

__all__ = ["Policy", "PolicyError", "RealmPolicy"]


class RealmPolicy:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get(self, realm: str) -> Policy:
        with self._ctx.engine.connect() as conn:
            return policies.load(conn, realm, self._ctx.settings)

    def set(self, realm: str, policy: Policy | dict[str, Any], *, actor: str) -> Policy:
        """Validate and store the realm's policy; a dict is applied on top of the current policy."""
        ctx = self._ctx
        now = ctx.clock()
        with ctx.engine.begin() as conn:
            old = policies.load(conn, realm, ctx.settings)
            new = Policy.from_dict(policy, old) if isinstance(policy, dict) else policy.validated()
            policies.save(conn, realm, new)
            ctx.events.record(
                conn,
                "policy_changed",
                realm,
                None,
                actor=actor,
                at=now,
                details={"old": old.to_dict(), "new": new.to_dict()},
            )
        return new
