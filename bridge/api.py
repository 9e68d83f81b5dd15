"""The ``/v1`` blueprint: JSON over HTTP in front of :class:`bridge.service.BackupCodes`.

Requests are checked against ``openapi.json`` itself (bodies, query strings, path parameters), so the
published contract and the validation cannot drift apart. Error messages name the offending field
and the rule it breaks, never the value: a value may be a code somebody mistyped into the wrong field.
Every call needs a bearer API key; anything wrong with it gets the same 401. A key scoped to some realms
gets the same 403 on any other realm, before any other work (see docs/design.md, "Realm-scoped keys").
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any, NoReturn

from flask import Blueprint, Response, current_app, g, request
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from sqlalchemy import Engine
from werkzeug.routing import BaseConverter

from bridge import audit, auth, codes, metrics
from bridge.policy import PolicyError
from bridge.service import BackupCodes, DeviceRecognitionDisabled, PermanentLockError
from bridge.settings import Settings

blueprint = Blueprint("v1", __name__, url_prefix="/v1")


class DeviceIdConverter(BaseConverter):
    """Only a device id matches ``…/devices/<device_id>``, so ``devices/check`` is not also a DELETE route."""

    regex = "[0-9a-f]{32}"


blueprint.record_once(lambda state: state.app.url_map.converters.setdefault("device_id", DeviceIdConverter))

NO_STORE = "no-store"
BUSY_RETRY_AFTER_SECONDS = 1  # a refused "busy" verification: the attempts in flight take milliseconds
_SAFE_FIELD = re.compile(r"[A-Za-z0-9_]{1,64}")
# Far deeper than any request schema nests (two levels), far shallower than what Python's recursion can walk.
MAX_JSON_DEPTH = 32
# A string runs to its closing quote or, unterminated, to the end of the body: a match from every opening
# quote, so the scan never restarts inside a string (which made an unterminated '"\\"\\"…' quadratic).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?"
)


@dataclass(frozen=True)
class Bridge:
    """What the views need, built once by the app factory (``app.extensions["backup_codes"]``)."""

    settings: Settings
    engine: Engine
    service: BackupCodes


class ApiError(Exception):
    """Turned into ``{"error", "message"}`` with ``status`` by the app's error handler."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def error_response(status: int, error: str, message: str) -> Response:
    response = current_app.json.response({"error": error, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="backup-codes"'
    return response


def _bridge() -> Bridge:
    return current_app.extensions["backup_codes"]


# ---------------------------------------------------------------------------------------- the contract


@cache
def spec() -> dict[str, Any]:
    return json.loads(resources.files("bridge").joinpath("openapi.json").read_text(encoding="utf-8"))


def parse_datetime(value: str) -> datetime:
    """RFC 3339 date-time (what the spec's ``format: date-time`` promises); naive means UTC."""
    match = _RFC3339.fullmatch(value)
    if not match:
        raise ValueError("not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = (match.group(7) or "0")[:6].ljust(6, "0")
    offset = match.group(8) or "Z"
    second = min(second, 59)  # a leap second is the last second of its minute for us
    tz = UTC
    if offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError("bad offset")
        tz = timezone(timedelta(minutes=sign * (hours * 60 + minutes)))
    moment = datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=tz)
    return moment.astimezone(UTC)


def _checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=(ValueError, OverflowError))
    def _date_time(value: object) -> bool:
        if isinstance(value, str):
            parse_datetime(value)
        return True

    @checker.checks("ipv4", raises=ValueError)
    def _ipv4(value: object) -> bool:
        if isinstance(value, str):
            ipaddress.IPv4Address(value)
        return True

    @checker.checks("ipv6", raises=ValueError)
    def _ipv6(value: object) -> bool:
        """RFC 4291 text as JSON Schema means it: no zone id (the spec allows one by a pattern of its own)."""
        if isinstance(value, str):
            return not ipaddress.IPv6Address(value).scope_id
        return True

    return checker


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """ECMA-262 meaning of a final ``$`` (end of string); Python's also matches before a final newline."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(_validator: Any, pattern: str, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield ValidationError("does not match the pattern")


# The spec's patterns are ECMA-262 regexes (what clients and schemathesis use); checked the same way here.
SpecValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})


@cache
def _validator(schema: str) -> Any:
    root = {"$ref": f"#/components/schemas/{schema}", "components": spec()["components"]}
    return SpecValidator(root, format_checker=_checker())


def _schema_validator(schema: dict[str, Any]) -> Any:
    """A parameter's schema may ``$ref`` a shared one in ``components`` (ids are defined once)."""
    return SpecValidator({**schema, "components": spec()["components"]}, format_checker=_checker())


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return spec()["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


@cache
def _parameter_validator(name: str) -> Any:
    return _schema_validator(spec()["components"]["parameters"][name]["schema"])


@cache
def _query_validators(path: str) -> dict[str, tuple[str, Any]]:
    params = spec()["paths"][path]["get"].get("parameters", [])
    return {
        p["name"]: (_resolved(p["schema"]).get("type", "string"), _schema_validator(p["schema"]))
        for p in params
        if p.get("in") == "query"
    }


def _describe(error: ValidationError, root: str) -> str:
    """A message naming the field and the rule, never echoing the value."""
    field = ".".join(str(part) for part in error.absolute_path) or root
    rule = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if rule == "required":
        missing = [name for name in schema.get("required", []) if name not in (error.instance or {})]
        prefix = f"{field}." if field != "body" else ""
        return "; ".join(f"{prefix}{name}: required" for name in missing) or f"{field}: missing field"
    if rule == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extra = sorted(str(key) for key in (error.instance or {}) if key not in allowed)
        named = [key for key in extra if _SAFE_FIELD.fullmatch(key)]
        return (
            f"{field}: unexpected field(s) {', '.join(named)}" if named else f"{field}: unexpected field(s)"
        )
    messages = {
        "type": lambda: f"must be of type {schema.get('type')}",
        "maxLength": lambda: f"must be at most {schema.get('maxLength')} characters",
        "minLength": lambda: f"must be at least {schema.get('minLength')} characters",
        "pattern": lambda: "has characters or a shape that are not allowed",
        "format": lambda: f"must be a valid {schema.get('format')}",
        "anyOf": lambda: "does not match any allowed form",
        "enum": lambda: f"must be one of {', '.join(map(str, schema.get('enum', [])))}",
        "minimum": lambda: f"must be at least {schema.get('minimum')}",
        "maximum": lambda: f"must be at most {schema.get('maximum')}",
        "minItems": lambda: f"must have at least {schema.get('minItems')} item(s)",
        "maxItems": lambda: f"must have at most {schema.get('maxItems')} items",
    }
    text = messages.get(str(rule), lambda: "is not valid")()
    return f"{field}: {text}"


def _validate(validator: Any, value: Any, *, root: str = "body") -> None:
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    messages = list(dict.fromkeys(_describe(e, root) for e in errors))
    raise ApiError(400, "validation_failed", "; ".join(messages[:5]))


def _no_surrogates(value: Any) -> bool:
    """Whether every string in ``value`` (keys included) is encodable, i.e. has no lone surrogate.

    Iterative: a walk as deep as the body must not be able to exhaust the stack.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def nesting_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text ``raw``, counted without parsing it.

    Strings are cut out first (their brackets are text), then the brackets left are summed: one pass in
    C over at most the body limit, and nothing recursive, so any depth is measured in the same way.
    """
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def body(schema: str, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object, validated against ``components.schemas[schema]``."""
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if not raw.strip():
        if required:
            raise ApiError(400, "missing_body", "a JSON request body is required")
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "the request body must be application/json")
    if nesting_depth(raw) > MAX_JSON_DEPTH:
        raise ApiError(
            400,
            "invalid_json",
            f"the request body nests arrays and objects over {MAX_JSON_DEPTH} levels deep",
        )
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not _no_surrogates(value):
        raise ApiError(400, "invalid_json", "the request body contains invalid Unicode")
    _validate(_validator(schema), value)
    return value


def query(path: str) -> dict[str, Any]:
    """The query string, checked against the operation's declared parameters (unknown ones refused)."""
    validators = _query_validators(path)
    values: dict[str, Any] = {}
    for name in request.args:
        if name not in validators:
            label = f"{name}: " if _SAFE_FIELD.fullmatch(name) else ""
            raise ApiError(400, "validation_failed", f"{label}unknown query parameter")
        given = request.args.getlist(name)
        if len(given) != 1:
            raise ApiError(400, "validation_failed", f"{name}: give it at most once")
        kind, validator = validators[name]
        value: Any = given[0]
        if kind == "integer":
            if not re.fullmatch(r"-?[0-9]{1,18}", value):
                raise ApiError(400, "validation_failed", f"{name}: must be an integer")
            value = int(value)
        if not _no_surrogates(value):
            raise ApiError(400, "validation_failed", f"{name}: has invalid characters")
        _validate(validator, value, root=name)
        values[name] = value
    return values


# ------------------------------------------------------------------------------------ authentication


PATH_PARAMETERS = (
    ("realm", "Realm"),
    ("user_id", "UserId"),
    ("source", "LockSource"),
    ("device_id", "DeviceId"),
)


@blueprint.before_request
def _authenticate_then_check_path() -> Response | None:
    key = auth.authenticate(_bridge().engine, auth.bearer_token(request.headers.get("Authorization")))
    if key is None:
        metrics.AUTH_FAILURES.inc()
        return error_response(401, "unauthorized", "a valid API key is required (Authorization: Bearer …)")
    g.api_key = key
    realm = (request.view_args or {}).get("realm")
    if realm is not None and not key.allows(realm):
        # Before the path is even validated: the answer is the same whatever the realm or user, so the
        # key learns nothing about them, and no rate limit, hash or audit row is spent on them.
        return _forbidden()
    for name, param in PATH_PARAMETERS:
        value = (request.view_args or {}).get(name)
        if value is None:
            continue
        if not _parameter_validator(param).is_valid(value):
            raise ApiError(400, "invalid_path", f"{name}: must match {_parameter_rule(param)}")
    return None


def _forbidden() -> Response:
    metrics.SCOPE_REFUSALS.inc()
    return error_response(403, "forbidden", "this API key is not allowed on this realm")


def _parameter_rule(param: str) -> str:
    schema = _resolved(spec()["components"]["parameters"][param]["schema"])
    return schema.get("pattern") or "one of " + ", ".join(schema.get("enum", []))


@blueprint.after_request
def _never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    return response


def _actor(given: str | None = None) -> str:
    return given or f"api:{g.api_key.name}"


def _json(value: Any, status: int = 200) -> Response:
    response = current_app.json.response(value)
    response.status_code = status
    return response


def _no_content() -> Response:
    return Response(status=204)


# ------------------------------------------------------------------------------------------- codes

USER = "/realms/<realm>/users/<user_id>"


@blueprint.post(f"{USER}/codes")
def issue_codes(realm: str, user_id: str) -> Response:
    data = body("IssueRequest", required=False)
    issued = _bridge().service.issue(
        realm,
        user_id,
        actor=_actor(data.get("actor")),
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
    return _json(payload, 201)


@blueprint.post(f"{USER}/codes/verify")
def verify_code(realm: str, user_id: str) -> Response:
    data = body("VerifyRequest")
    result = _bridge().service.verify(
        realm,
        user_id,
        data["code"],
        client_ip=data["client_ip"],
        user_agent=data.get("user_agent"),
        purpose=data.get("purpose", "login"),
        keycloak_locked=bool(data.get("keycloak_locked", False)),
    )
    metrics.VERIFICATIONS.labels(result.reason).inc()
    response = _json(result.to_dict())
    if result.reason == "busy":
        # Not a failure: the user's other attempts are still being checked; one is over in well under this.
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


@blueprint.get(f"{USER}/codes")
def get_status(realm: str, user_id: str) -> Response:
    return _json(_bridge().service.status(realm, user_id).to_dict())


@blueprint.delete(f"{USER}/codes")
def revoke_codes(realm: str, user_id: str) -> Response:
    _bridge().service.revoke(realm, user_id, actor=_actor(), reason="revoked through the API")
    return _no_content()


@blueprint.post(f"{USER}/reset")
def helpdesk_reset(realm: str, user_id: str) -> Response:
    data = body("ResetRequest")
    service = _bridge().service
    service.helpdesk_reset(
        realm, user_id, actor=data["actor"], reason=data["reason"], identity_check=data["identity_check"]
    )
    return _json(service.status(realm, user_id).to_dict())


# ----------------------------------------------------------------------------------------- contact


@blueprint.get(f"{USER}/contact")
def get_contact(realm: str, user_id: str) -> Response:
    contact = _bridge().service.get_contact(realm, user_id)
    if contact is None:
        raise ApiError(404, "not_found", "no contact record for this user")
    return _json(contact.to_dict())


@blueprint.put(f"{USER}/contact")
def put_contact(realm: str, user_id: str) -> Response:
    data = body("ContactRequest")
    service = _bridge().service
    service.set_contact(
        realm,
        user_id,
        email=data.get("email"),
        phone=data.get("phone"),
        locale=data.get("locale"),
        display_name=data.get("display_name"),
        source="api",
        actor=_actor(),
    )
    contact = service.get_contact(realm, user_id)
    assert contact is not None  # just written
    return _json(contact.to_dict())


@blueprint.patch(f"{USER}/contact")
def patch_contact(realm: str, user_id: str) -> Response:
    data = body("ContactPatch")
    contact = _bridge().service.patch_contact(realm, user_id, data, source="api", actor=_actor())
    return _json(contact.to_dict())


@blueprint.delete(f"{USER}/contact")
def delete_contact(realm: str, user_id: str) -> Response:
    _bridge().service.delete_contact(realm, user_id, actor=_actor())
    return _no_content()


# ----------------------------------------------------------------------------------------- devices
# The token in these bodies and answers is the device cookie: it goes into no log line and no error.


def _devices_enabled() -> BackupCodes:
    service = _bridge().service
    if not _bridge().settings.device_cookie_key:
        raise DeviceRecognitionDisabled("device recognition is disabled (no device cookie key configured)")
    return service


@blueprint.post(f"{USER}/devices")
def register_device(realm: str, user_id: str) -> Response:
    data = body("DeviceRegisterRequest", required=False)
    registered = _devices_enabled().register_device(
        realm, user_id, client_ip=data.get("client_ip"), user_agent=data.get("user_agent")
    )
    return _json(registered.to_dict(), 201)


@blueprint.post(f"{USER}/devices/check")
def check_device(realm: str, user_id: str) -> Response:
    data = body("DeviceCheckRequest")
    checked = _devices_enabled().check_device(
        realm, user_id, data["token"], client_ip=data.get("client_ip"), user_agent=data.get("user_agent")
    )
    return _json(checked.to_dict())


@blueprint.get(f"{USER}/devices")
def list_devices(realm: str, user_id: str) -> Response:
    found = _devices_enabled().list_devices(realm, user_id)
    return _json({"devices": [device.to_dict() for device in found]})


@blueprint.post(f"{USER}/devices/forget")
def forget_devices(realm: str, user_id: str) -> Response:
    data = body("DeviceForgetRequest", required=False)
    forgotten = _devices_enabled().forget_devices(
        realm, user_id, actor=_actor(data.get("actor")), reason=data.get("reason", "")
    )
    return _json({"forgotten": forgotten})


@blueprint.delete(f"{USER}/devices/<device_id:device_id>")
def forget_device(realm: str, user_id: str, device_id: str) -> Response:
    if not _devices_enabled().forget_device(realm, user_id, device_id, actor=_actor()):
        raise ApiError(404, "not_found", "no such device for this user")
    return _no_content()


# ------------------------------------------------------------------------------------------- locks


def _locks(realm: str, user_id: str) -> dict[str, Any]:
    service = _bridge().service
    return {
        "locks": [lock.to_dict() for lock in service.list_locks(realm, user_id)],
        "effective": service.lock_state(realm, user_id).to_dict(),
    }


@blueprint.get(f"{USER}/locks")
def get_locks(realm: str, user_id: str) -> Response:
    return _json(_locks(realm, user_id))


@blueprint.put(f"{USER}/locks/<source>")
def put_lock(realm: str, user_id: str, source: str) -> Response:
    data = body("LockRequest")
    service = _bridge().service
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
        actor=_actor(data.get("actor")),
        expires_at=expires_at,
    )
    return _json(_locks(realm, user_id))


@blueprint.delete(f"{USER}/locks/<source>")
def delete_lock(realm: str, user_id: str, source: str) -> Response:
    # The caller names the source it manages, so lifting that source's permanent lock is its decision.
    _bridge().service.clear_lock(
        realm, user_id, source=source, actor=_actor(), reason="cleared through the API", allow_permanent=True
    )
    return _no_content()


@blueprint.delete(USER)
def delete_user(realm: str, user_id: str) -> Response:
    _bridge().service.delete_user(realm, user_id, actor=_actor())
    return _no_content()


# ------------------------------------------------------------------------------------------ policy


@blueprint.get("/realms/<realm>/policy")
def get_policy(realm: str) -> Response:
    return _json(_bridge().service.get_policy(realm).to_dict())


@blueprint.put("/realms/<realm>/policy")
def put_policy(realm: str) -> Response:
    data = body("PolicyUpdate")
    # JSON has one number type: 10.0 is the integer 10 for the schema, so it is for the policy too.
    data = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in data.items()}
    try:
        policy = _bridge().service.set_policy(realm, data, actor=_actor())
    except PolicyError as exc:
        raise ApiError(422, "policy_invalid", str(exc)) from None
    return _json(policy.to_dict())


# ------------------------------------------------------------------------------------------- audit

AUDIT_MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


@blueprint.get("/audit")
def query_audit() -> Response:
    args = query("/v1/audit")
    key: auth.ApiKey = g.api_key
    if "realm" in args and not key.allows(args["realm"]):
        return _forbidden()
    rows = audit.query(
        _bridge().engine,
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
        return _json({"events": rows})
    return Response(audit.export(rows, fmt), mimetype=AUDIT_MEDIA[fmt])


# ------------------------------------------------------------------------------------------ sheets


def _sheet_from_request() -> Any:
    from bridge import sheet

    data = body("SheetRequest")
    created_at = parse_datetime(data["created_at"]) if "created_at" in data else datetime.now(UTC)
    return sheet.CodeSheet(
        codes=[codes.format_code(code.replace("-", "")) for code in data["codes"]],
        username=data["username"],
        realm_display_name=data["realm_display_name"],
        organisation=data.get("organisation") or _bridge().settings.organisation_name,
        created_at=created_at,
        locale=data.get("locale") or _bridge().settings.default_locale,  # raw: it picks the CJK face too
    ), data.get("paper", "A4")


@blueprint.post("/sheets/pdf")
def sheet_pdf() -> Response:
    from bridge import sheet

    code_sheet, paper = _sheet_from_request()
    pdf = sheet.render_pdf(code_sheet, paper=paper, font_dirs=_bridge().settings.font_dirs)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="backup-codes.pdf"'
    return response


@blueprint.post("/sheets/txt")
def sheet_txt() -> Response:
    from bridge import sheet

    code_sheet, _paper = _sheet_from_request()
    response = Response(sheet.render_txt(code_sheet), mimetype="text/plain")
    response.headers["Content-Disposition"] = 'attachment; filename="backup-codes.txt"'
    return response


# ------------------------------------------------------------------------------------ domain errors


@blueprint.errorhandler(PermanentLockError)
def _permanent_lock(exc: PermanentLockError) -> Response:
    return error_response(409, "permanent_lock", str(exc))


@blueprint.errorhandler(DeviceRecognitionDisabled)
def _devices_disabled(_exc: DeviceRecognitionDisabled) -> Response:
    return error_response(
        409,
        "device_recognition_disabled",
        "device recognition is disabled: set BACKUP_CODES_DEVICE_COOKIE_KEY to enable it",
    )


@blueprint.errorhandler(PolicyError)
def _policy_error(exc: PolicyError) -> Response:
    return error_response(422, "policy_invalid", str(exc))


@blueprint.errorhandler(ValueError)
def _refused(exc: ValueError) -> Response:
    """The service's own checks (ids, contact fields, lock times): their messages name fields, not values."""
    return error_response(400, "invalid_request", str(exc)[:300])
