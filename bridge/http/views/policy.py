"""A realm's policy: code count and length, failures before a lock, notifications (tag ``policy``)."""

from __future__ import annotations

from flask import Blueprint, Response

from bridge.http.context import ApiError, actor, bridge, json_response
from bridge.http.validation import body
from bridge.service.policy import PolicyError

blueprint = Blueprint("policy", __name__)


@blueprint.get("/realms/<realm>/policy")
def get_policy(realm: str) -> Response:
    return json_response(bridge().service.get_policy(realm).to_dict())


@blueprint.put("/realms/<realm>/policy")
def put_policy(realm: str) -> Response:
    data = body("PolicyUpdate")
    # JSON has one number type: 10.0 is the integer 10 for the schema, so it is for the policy too.
    data = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in data.items()}
    try:
        policy = bridge().service.set_policy(realm, data, actor=actor())
    except PolicyError as exc:
        raise ApiError(422, "policy_invalid", str(exc)) from None
    return json_response(policy.to_dict())
