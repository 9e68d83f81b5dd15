"""One user as a whole: the helpdesk reset, the locks per source, deleting everything kept about them.

Tags ``helpdesk``, ``locks`` and ``users``: the operations an administrator runs on a user rather than
on one of their codes, contacts or devices.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response

from bridge.http.context import USER, actor, bridge, json_response, no_content
from bridge.http.validation import body
from bridge.service import PermanentLockError

blueprint = Blueprint("users", __name__)


@blueprint.post(f"{USER}/reset")
def helpdesk_reset(realm: str, user_id: str) -> Response:
    data = body("ResetRequest")
    service = bridge().service
    service.helpdesk_reset(
        realm, user_id, actor=data["actor"], reason=data["reason"], identity_check=data["identity_check"]
    )
    return json_response(service.status(realm, user_id).to_dict())


def _locks(realm: str, user_id: str) -> dict[str, Any]:
    service = bridge().service
    return {
        "locks": [lock.to_dict() for lock in service.list_locks(realm, user_id)],
        "effective": service.lock_state(realm, user_id).to_dict(),
    }


@blueprint.get(f"{USER}/locks")
def get_locks(realm: str, user_id: str) -> Response:
    return json_response(_locks(realm, user_id))


@blueprint.put(f"{USER}/locks/<source>")
def put_lock(realm: str, user_id: str, source: str) -> Response:
    data = body("LockRequest")
    service = bridge().service
    expires_at = None
    if data["kind"] == "temporary":
        seconds = data.get("duration_seconds") or service.get_policy(realm).lockout_seconds
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=int(seconds))
    service.set_lock(
        realm,
        user_id,
        source=source,
        kind=data["kind"],
        reason=data["reason"],
        actor=actor(data.get("actor")),
        expires_at=expires_at,
    )
    return json_response(_locks(realm, user_id))


@blueprint.delete(f"{USER}/locks/<source>")
def delete_lock(realm: str, user_id: str, source: str) -> Response:
    # The caller names the source it manages, so lifting that source's permanent lock is its decision.
    bridge().service.clear_lock(
        realm, user_id, source=source, actor=actor(), reason="cleared through the API", allow_permanent=True
    )
    return no_content()


@blueprint.delete(USER)
def delete_user(realm: str, user_id: str) -> Response:
    bridge().service.delete_user(realm, user_id, actor=actor())
    return no_content()


@blueprint.post(f"{USER}/locks/<source>/unlock")
def unlock_temporary(realm: str, user_id: str, source: str) -> Response:
    """Lift a *temporary* lock for a named admin (Keycloak's "unlock user"); a permanent one stays.

    Unlike ``DELETE .../locks/{source}`` this is a side effect of another decision, so it never lifts a
    permanent lock (not an error: ``cleared`` is false and ``effective`` shows the lock that stays), and
    the audit names the person, not the API key.
    """
    data = body("UnlockRequest")
    try:
        cleared = bridge().service.clear_lock(
            realm, user_id, source=source, actor=data["actor"], reason=data["reason"]
        )
    except PermanentLockError:
        cleared = False
    return json_response({"cleared": cleared, **_locks(realm, user_id)})


@blueprint.post("/realms/<realm>/locks/codes/unlock")
def unlock_all_temporary(realm: str) -> Response:
    """Lift every *temporary* codes lock of the realm for a named admin (Keycloak's "unlock all users").

    The realm-wide twin of ``unlock_temporary``: permanent codes locks and other sources' locks stay, and
    each lifted user's audit row names the person. One call, so the provider needs no list of users.
    """
    data = body("UnlockRequest")
    lifted = bridge().service.clear_temporary_codes_locks(realm, actor=data["actor"], reason=data["reason"])
    return json_response({"cleared": len(lifted)})
