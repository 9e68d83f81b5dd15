"""A realm's policy: code count and length, failures before a lock, notifications (tag ``policy``)."""

from __future__ import annotations

from flask import Blueprint, Response

from bridge.http.context import actor, bridge, json_response
from bridge.http.validation import body

blueprint = Blueprint("policy", __name__)


@blueprint.get("/realms/<realm>/policy")
def get_policy(realm: str) -> Response:
    return json_response(bridge().service.get_policy(realm).to_dict())


@blueprint.put("/realms/<realm>/policy")
def put_policy(realm: str) -> Response:
    data = body("PolicyUpdate")
    # Who asked is not a policy field: the admin console names its admin here, so the audit's
    # policy_changed row says who changed the policy rather than which API key carried the change.
    given = data.pop("actor", None)
    # JSON has one number type: 10.0 is the integer 10 for the schema, so it is for the policy too.
    data = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in data.items()}
    policy = bridge().service.set_policy(realm, data, actor=actor(given))  # InvalidPolicy: 422 by its class
    return json_response(policy.to_dict())
