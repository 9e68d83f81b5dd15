"""The audit trail, as JSON or exported as JSON Lines or CSV (tag ``audit``)."""

from __future__ import annotations

from flask import Blueprint, Response, g

from bridge.http.context import bridge, forbidden, json_response
from bridge.http.validation import parse_datetime, query
from bridge.store import api_keys, audit

blueprint = Blueprint("audit", __name__)

AUDIT_MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


@blueprint.get("/audit")
def query_audit() -> Response:
    args = query("/v1/audit")
    key: api_keys.ApiKey = g.api_key
    if "realm" in args and not key.allows(args["realm"]):
        return forbidden()
    rows = audit.query(
        bridge().engine,
        realm=args.get("realm"),
        # A realm key reads its realms' events only: not other realms', nor the realm-less API key events.
        realms=None if key.all_realms else key.realms,
        user_id=args.get("user_id"),
        event=args.get("event"),
        since=parse_datetime(args["since"]) if "since" in args else None,
        until=parse_datetime(args["until"]) if "until" in args else None,
        limit=args.get("limit", 1000),
    )
    fmt = args.get("format", "json")
    if fmt == "json":
        return json_response({"events": rows})
    return Response(audit.export(rows, fmt), mimetype=AUDIT_MEDIA[fmt])
