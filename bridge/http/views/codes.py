"""A user's backup codes: issue a set, verify one, read the status, revoke them (tag ``codes``)."""

from __future__ import annotations

from flask import Blueprint, Response

from bridge.http.context import USER, actor, bridge, json_response, no_content
from bridge.http.validation import body
from bridge.ops import metrics

blueprint = Blueprint("codes", __name__)

BUSY_RETRY_AFTER_SECONDS = 1  # a refused "busy" verification: the attempts in flight take milliseconds


@blueprint.post(f"{USER}/codes")
def issue_codes(realm: str, user_id: str) -> Response:
    data = body("IssueRequest", required=False)
    issued = bridge().service.issue(
        realm,
        user_id,
        actor=actor(data.get("actor")),
        client_ip=data.get("client_ip"),
        user_agent=data.get("user_agent"),
    )
    metrics.SETS_ISSUED.inc()
    payload = {
        "codes": issued.codes,
        "created_at": issued.created_at.isoformat(),
        "set_id": issued.set_id,
        "count": len(issued.codes),
    }
    return json_response(payload, 201)


@blueprint.post(f"{USER}/codes/verify")
def verify_code(realm: str, user_id: str) -> Response:
    data = body("VerifyRequest")
    result = bridge().service.verify(
        realm,
        user_id,
        data["code"],
        client_ip=data["client_ip"],
        user_agent=data.get("user_agent"),
        purpose=data.get("purpose", "login"),
        keycloak_locked=bool(data.get("keycloak_locked", False)),
    )
    metrics.VERIFICATIONS.labels(result.reason).inc()
    response = json_response(result.to_dict())
    if result.reason == "busy":
        # Not a failure: the user's other attempts are still being checked; one is over in well under this.
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


@blueprint.get(f"{USER}/codes")
def get_status(realm: str, user_id: str) -> Response:
    return json_response(bridge().service.status(realm, user_id).to_dict())


@blueprint.delete(f"{USER}/codes")
def revoke_codes(realm: str, user_id: str) -> Response:
    bridge().service.revoke(realm, user_id, actor=actor(), reason="revoked through the API")
    return no_content()
