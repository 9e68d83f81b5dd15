"""A user's set of codes: issue (or regenerate), revoke, the helpdesk reset, status, forgetting the user.

Codes are generated server-side, shown once, stored as per-code Argon2id hashes, and hashed before the
transaction opens (~18 ms per code must not hold the writer lock). A new set replaces the old one in
one transaction: old or new, never half.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bridge.domain import codes
from bridge.domain.addresses import canonical_client_ip
from bridge.domain.ids import check_ids, check_required
from bridge.domain.results import IssuedSet, Status
from bridge.service.context import Context
from bridge.service.devices import forget_all_in
from bridge.store import codes as code_rows
from bridge.store import contacts as contact_rows
from bridge.store import devices as device_rows
from bridge.store import locks as lock_rows
from bridge.store import policies


class Enrolment:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def issue(
        self,
        realm: str,
        user_id: str,
        *,
        actor: str,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> IssuedSet:
        """Generate a new set, replacing any previous one; a replaced set forgets every remembered device
        (the old set may be in the wrong hands, so every device has to ask again)."""
        check_ids(realm, user_id)
        client_ip = canonical_client_ip(client_ip)
        ctx = self._ctx
        with ctx.engine.connect() as conn:
            policy = policies.load(conn, realm, ctx.settings)
        plain = codes.generate_set(policy.code_count, policy.code_length)
        now, set_id = ctx.clock(), str(uuid.uuid4())
        rows = _hashed(ctx.hasher, realm, user_id, plain, set_id, now)
        with ctx.engine.begin() as conn:
            replaced = code_rows.delete_set(conn, realm, user_id)
            code_rows.ensure_user(conn, realm, user_id, now, enroll_required=False)
            code_rows.insert_set(conn, rows)
            if replaced:
                forget_all_in(ctx, conn, realm, user_id, actor=actor, reason="codes_regenerated", now=now)
            ctx.events.record(
                conn,
                "regenerated" if replaced else "issued",
                realm,
                user_id,
                actor=actor,
                at=now,
                client_ip=client_ip,
                user_agent=user_agent,
                details={"set_id": set_id, "count": len(rows), "replaced": replaced > 0},
                mail="codes_regenerated" if replaced else "codes_issued",
                mail_context={
                    "when": now.isoformat(),
                    "count": len(rows),
                    "client_ip": client_ip,
                    "user_agent": user_agent,
                },
            )
        return IssuedSet(codes=[codes.format_code(code) for code in plain], set_id=set_id, created_at=now)

    def revoke(self, realm: str, user_id: str, *, actor: str, reason: str = "") -> bool:
        """Delete the user's set; False when there was none."""
        check_ids(realm, user_id)
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            removed = code_rows.delete_set(conn, realm, user_id)
            if removed:
                self._ctx.events.record(
                    conn,
                    "revoked",
                    realm,
                    user_id,
                    actor=actor,
                    at=now,
                    details={"reason": reason, "count": removed},
                )
        return removed > 0

    def helpdesk_reset(
        self, realm: str, user_id: str, *, actor: str, reason: str, identity_check: str
    ) -> None:
        """Revoke the set and require enrolment at next login, after the helpdesk checked the user's identity.

        The identity check is the point of the procedure, so it is mandatory and audited. The bridge's
        own failure counter and temporary lock go too: the person has been verified another way.
        """
        check_ids(realm, user_id)
        check_required("actor", actor, "helpdesk reset")
        check_required("identity_check", identity_check, "helpdesk reset")
        ctx = self._ctx
        now = ctx.clock()
        with ctx.engine.begin() as conn:
            removed = code_rows.delete_set(conn, realm, user_id)
            code_rows.ensure_user(conn, realm, user_id, now, enroll_required=True)
            lock_rows.reset_after_success(conn, realm, user_id, now)
            forget_all_in(ctx, conn, realm, user_id, actor=actor, reason="helpdesk_reset", now=now)
            ctx.events.record(
                conn,
                "helpdesk_reset",
                realm,
                user_id,
                actor=actor,
                at=now,
                details={"reason": reason, "identity_check": identity_check, "codes_revoked": removed},
                mail="helpdesk_reset",
                mail_context={"when": now.isoformat()},
            )

    def status(self, realm: str, user_id: str) -> Status:
        check_ids(realm, user_id)
        ctx = self._ctx
        now = ctx.clock()
        with ctx.engine.connect() as conn:
            policy = policies.load(conn, realm, ctx.settings)
            summary = code_rows.summary(conn, realm, user_id)
            lock = lock_rows.current(conn, realm, user_id, now)
        enrolled = summary["total"] > 0
        return Status(
            remaining=summary["remaining"],
            total=summary["total"],
            created_at=summary["created_at"],
            last_used_at=summary["last_used_at"],
            low=enrolled and summary["remaining"] <= policy.low_threshold,
            enroll_required=summary["enroll_required"],
            lock=lock,
            enrolled=enrolled,
            low_threshold=policy.low_threshold,
        )

    def delete_user(self, realm: str, user_id: str, *, actor: str) -> None:
        """Forget everything about the user except the audit trail (which records the deletion)."""
        check_ids(realm, user_id)
        now = self._ctx.clock()
        with self._ctx.engine.begin() as conn:
            removed = code_rows.delete_set(conn, realm, user_id)
            code_rows.delete_user(conn, realm, user_id)
            lock_rows.delete_all(conn, realm, user_id)
            contact_rows.delete_one(conn, realm, user_id)
            device_rows.delete_all(conn, realm, user_id)
            self._ctx.events.record(
                conn, "user_deleted", realm, user_id, actor=actor, at=now, details={"codes_removed": removed}
            )


def _hashed(
    hasher: Any, realm: str, user_id: str, plain: list[str], set_id: str, now: datetime
) -> list[dict[str, Any]]:
    """The set's rows: each code as its selector and its Argon2id hash, never in plaintext."""
    return [
        {
            "realm": realm,
            "user_id": user_id,
            "set_id": set_id,
            "selector": codes.selector_of(code),
            "hash": hasher.hash(realm, user_id, code),
            "created_at": now,
            "used_at": None,
            "used_ip": None,
        }
        for code in plain
    ]
