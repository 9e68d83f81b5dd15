"""The ``/v1`` blueprint: JSON over HTTP in front of :class:`bridge.service.BackupCodes`.

Every call needs a bearer API key; anything wrong with it gets the same 401. A key scoped to some realms
gets the same 403 on any other realm, before any other work (see docs/design.md, "Realm-scoped keys").
Path parameters are then checked against ``openapi.json`` (:mod:`bridge.http.validation`).

The views live in :mod:`bridge.http.views`, one module and one blueprint per resource of the contract,
each nested in this one (Flask's nested blueprints). Nesting rather than one flat blueprint, because a
resource's routes and helpers then sit together and register as a unit, while what holds for every
``/v1`` call is stated once, here: its URL prefix, authentication, ``Cache-Control: no-store`` and the
error handlers below, which Flask applies to a nested blueprint's requests as to this one's.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from bridge.http.context import bridge, error_response, forbidden
from bridge.http.validation import check_path
from bridge.http.views import RESOURCES
from bridge.ops import metrics
from bridge.store import api_keys

blueprint = Blueprint("v1", __name__, url_prefix="/v1")
for _resource in RESOURCES:
    blueprint.register_blueprint(_resource)

NO_STORE = "no-store"


@blueprint.before_request
def _authenticate_then_check_path() -> Response | None:
    context = bridge()
    presented = api_keys.bearer_token(request.headers.get("Authorization"))
    key = api_keys.authenticate(context.engine, presented, context.key_cache)
    if key is None:
        metrics.AUTH_FAILURES.inc()
        return error_response(401, "unauthorized", "a valid API key is required (Authorization: Bearer …)")
    g.api_key = key
    realm = (request.view_args or {}).get("realm")
    if realm is not None and not key.allows(realm):
        # Before the path is even validated: the answer is the same whatever the realm or user, so the
        # key learns nothing about them, and no rate limit, hash or audit row is spent on them.
        return forbidden()
    check_path(request.view_args)
    return None


@blueprint.after_request
def _never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    return response
