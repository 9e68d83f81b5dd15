"""Structured logs: one JSON object per line on stderr, with the request id of the request being served.

The access log records method, path, status and duration, never bodies, query strings or headers, so
no code or key is ever handed to the logging system on purpose. :class:`RedactingFilter` is the second
line of defence for mistakes: anything shaped like a backup code or an API key is replaced before a
record is written, wherever it appears (message, arguments, extra fields, exception text).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REDACTED = "[REDACTED]"
# Crockford base32 plus the confusables users type (I, L, O), either case; U is not in the alphabet.
_CHAR = "[0-9A-TV-Za-tv-z]"
_ALONE_BEFORE = r"(?<![\w-])"
_ALONE_AFTER = r"(?![\w-])"
# Display form (groups of 2-4 joined by dashes) and the bare form (15-32 characters). A UUID never
# matches: its 4-character groups are joined to longer ones.
_CODE_DASHED = re.compile(rf"{_ALONE_BEFORE}{_CHAR}{{2,4}}(?:-{_CHAR}{{1,4}}){{2,7}}{_ALONE_AFTER}")
_CODE_BARE_MIN = 15  # redact() skips the bare pattern on shorter text
_CODE_BARE = re.compile(rf"{_ALONE_BEFORE}{_CHAR}{{{_CODE_BARE_MIN},32}}{_ALONE_AFTER}")
# An API key keeps its public id (useful in logs) and loses the secret, even a truncated one.
_API_KEY = re.compile(r"(bcb_[0-9a-fA-F]{1,16}_)[0-9A-Za-z]+")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
# A device token (the "remember this device" cookie, devices.py) anywhere, and any value of a field
# named token, as JSON ("token": "…") or as key=value.
_DEVICE_TOKEN = re.compile(r"[0-9a-f]{32}\.[0-9]{1,12}\.[A-Za-z0-9_-]{20,}")
_DEVICE_TOKEN_MIN = 32 + 1 + 1 + 1 + 20  # the shortest text _DEVICE_TOKEN matches
_TOKEN_FIELD = re.compile(r"""(?i)(["']?\btoken["']?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;}&]+)""")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# What str.splitlines, JavaScript and other line splitters break a line at, beyond the \n and \r JSON
# always escapes: JSON writes the C0 ones as \u00XX too, but NEL, LINE and PARAGRAPH SEPARATOR raw when
# ensure_ascii is off. Escaped, a record stays one line for any reader; json.loads still gives the text back.
_LINE_BREAKS = {ord(char): f"\\u{ord(char):04x}" for char in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
_ASCII_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e"

_MAX_DEPTH = 8  # nesting of an ``extra`` field that is redacted item by item
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    """``text`` with everything code-, key- or token-shaped replaced.

    Every record passes here several times (each field, then the finished line), so a pattern runs only
    when ``text`` holds what any match of it must contain: a word ("token", "bearer"; ``str.lower`` maps
    every character the patterns' ``(?i)`` matches to those letters onto them), a dot, a dash, the length.
    """
    if "token" in text.lower():
        text = _TOKEN_FIELD.sub(rf'\g<1>"{REDACTED}"', text)
    if len(text) >= _DEVICE_TOKEN_MIN and "." in text:
        text = _DEVICE_TOKEN.sub(REDACTED, text)
    text = _API_KEY.sub(rf"\g<1>{REDACTED}", text)
    if "bearer" in text.lower():
        text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    if "-" in text:
        text = _CODE_DASHED.sub(REDACTED, text)
    return _CODE_BARE.sub(REDACTED, text) if len(text) >= _CODE_BARE_MIN else text


def _redacted(value: Any, depth: int = 0) -> Any:
    """``value`` with every string in it redacted, however it is nested (as text past a sane depth).

    The formatter's pass over the finished JSON line is not enough on its own: JSON writes a newline or
    tab before a code as ``\\n``/``\\t``, and the code's left boundary then sees a letter and does not match.
    """
    if isinstance(value, str):
        return redact(value)
    if not isinstance(value, dict | list | tuple | set | frozenset):
        return value
    if depth >= _MAX_DEPTH:  # also ends a cycle; str() of a cyclic container is safe
        return _redacted_text(value)
    if isinstance(value, dict):
        return {(redact(k) if isinstance(k, str) else k): _redacted(v, depth + 1) for k, v in value.items()}
    return [_redacted(item, depth + 1) for item in value]


def _redacted_text(value: object) -> str:
    """What ``json.dumps`` writes for an object it cannot serialise: its text, redacted first."""
    return redact(str(value))


class RedactingFilter(logging.Filter):
    """Rewrites a record so nothing code- or key-shaped survives; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _RESERVED:
                setattr(record, name, _redacted(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for name, value in record.__dict__.items():
            if name not in _RESERVED and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        # Redact the finished line too: nothing reaches stderr without passing the patterns. Then escape
        # the line breaks JSON leaves raw (after redacting: an escape puts letters before a code).
        return _one_line(redact(json.dumps(entry, default=_redacted_text, ensure_ascii=False)))


def _one_line(line: str) -> str:
    """``line`` with the breaks of :data:`_LINE_BREAKS` escaped (``translate`` only when there is one)."""
    if line.isascii() and not any(char in line for char in _ASCII_LINE_BREAKS):
        return line
    return line.translate(_LINE_BREAKS)


_HANDLER_NAME = "backup-codes-json"
_CHATTY = ("fontTools", "fpdf", "alembic", "waitress.queue")


def configure(level: str = "INFO", stream: Any = None) -> logging.Handler:
    """Install the JSON handler on the root logger once (idempotent: app factories run more than once)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if handler.get_name() == _HANDLER_NAME:
            handler.setLevel(level.upper())
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    handler.setLevel(level.upper())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > handler.level:
        root.setLevel(handler.level)
    # Libraries that narrate routine work at INFO (font subsetting per PDF, Alembic per readiness probe).
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler
