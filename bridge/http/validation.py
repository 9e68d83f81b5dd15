"""Requests checked against ``openapi.json`` itself: bodies, query strings and path parameters.

The published contract and the validation cannot drift apart, because the one is the other. Error
messages name the offending field and the rule it breaks, never the value: a value may be a code
somebody mistyped into the wrong field. JSON is parsed only after its nesting depth is measured without
parsing (``nesting_depth`` against ``MAX_JSON_DEPTH``), so no body can exhaust the parser's stack.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any, NoReturn

from flask import request
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from bridge.http.context import ApiError

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
# The path parameters checked before any view runs: (name in the route, components.parameters entry).
PATH_PARAMETERS = (
    ("realm", "Realm"),
    ("user_id", "UserId"),
    ("source", "LockSource"),
    ("device_id", "DeviceId"),
)


# ---------------------------------------------------------------------------------------- the contract


@cache
def spec() -> dict[str, Any]:
    return json.loads(resources.files("bridge.http").joinpath("openapi.json").read_text(encoding="utf-8"))


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


_SCHEMA_REF = "#/components/schemas/"


def _inlined(node: Any, seen: frozenset[str] = frozenset()) -> Any:
    """``node`` with every bare ``$ref`` to a shared schema replaced by a copy of that schema.

    Why: jsonschema looks a ``$ref`` up in its registry on every validation, which made checking a
    request's body and path cost twice and five times what it does inlined. The errors are the same
    either way (same keywords, schemas and instance paths). A schema that refers to itself keeps the
    ``$ref`` there, resolved against ``components`` as before.
    """
    if isinstance(node, list):
        return [_inlined(item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if len(node) == 1 and isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
        name = ref.removeprefix(_SCHEMA_REF)
        target = spec()["components"]["schemas"].get(name)
        if target is not None and name not in seen:
            return _inlined(target, seen | {name})
    return {key: _inlined(value, seen) for key, value in node.items()}


@cache
def _validator(schema: str) -> Any:
    return _schema_validator({"$ref": f"{_SCHEMA_REF}{schema}"})


def _schema_validator(schema: dict[str, Any]) -> Any:
    """A parameter's schema may ``$ref`` a shared one in ``components`` (ids are defined once)."""
    root = {**_inlined(schema), "components": spec()["components"]}
    return SpecValidator(root, format_checker=_checker())


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


def check_path(view_args: Mapping[str, Any] | None) -> None:
    """Each path parameter against its ``components.parameters`` schema; the rule is named, not the value."""
    for name, param in PATH_PARAMETERS:
        value = (view_args or {}).get(name)
        if value is None:
            continue
        if not _parameter_validator(param).is_valid(value):
            raise ApiError(400, "invalid_path", f"{name}: must match {_parameter_rule(param)}")


def _parameter_rule(param: str) -> str:
    schema = _resolved(spec()["components"]["parameters"][param]["schema"])
    return schema.get("pattern") or "one of " + ", ".join(schema.get("enum", []))
