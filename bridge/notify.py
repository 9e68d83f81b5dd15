"""Mail notifications: an outbox row written in the caller's transaction, and a worker that sends it.

NIST SP 800-63B-4 §4.2 makes a notification a SHALL when recovery codes are replaced or used to
recover an account; OWASP asks for one on every MFA change and lockout. Writing the outbox row in the
same transaction as the event queues a mail exactly when the event commits, and keeps SMTP out of the
login path: an outage only delays mail, the worker retries with exponential backoff.

Several bridge processes may run a :class:`Notifier` against one database: a row is claimed with a
guarded ``UPDATE … WHERE id = ? AND <still due>`` and the row count decides who sends it. Delivery is
at least once: a worker that dies between sending and recording the result leaves a claim that
expires, and the mail goes out again with the same Message-ID so mail clients can fold the copies.
"""

from __future__ import annotations

import contextlib
import gettext
import logging
import re
import smtplib
import ssl
import textwrap
import threading
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from sqlalchemy import Connection, Engine, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import OperationalError

from bridge import locales
from bridge.db import as_utc, unavailable_reason, utcnow
from bridge.devices import browser_and_system
from bridge.schema import contacts, notifications
from bridge.settings import Settings

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = (
    "codes_issued",
    "codes_regenerated",
    "code_used",
    "codes_low",
    "locked",
    "unlocked",
    "helpdesk_reset",
    "email_changed",
    "new_device",
    "account_recovered",
)

# Template variables a caller may pass; all optional (templates leave out what is missing).
#   realm_display_name, username, display_name: who and where, for the greeting and subject
#   when, client_ip, user_agent: the event's circumstances (code_used, new_device, issued, ...)
#   count (codes_issued/regenerated), remaining + threshold (code_used, codes_low, account_recovered),
#   until (locked; None = until an administrator unlocks), old_email/new_email (email_changed, masked
#   in the mail), device_name (new_device), account_url (link to where the user manages their codes),
#   lock_lifted (account_recovered: the recovery also lifted a temporary lock on the account).
CONTEXT_KEYS: frozenset[str] = frozenset(
    {
        "realm",
        "realm_display_name",
        "username",
        "display_name",
        "when",
        "client_ip",
        "user_agent",
        "device_name",
        "count",
        "remaining",
        "threshold",
        "until",
        "old_email",
        "new_email",
        "account_url",
        "lock_lifted",
    }
)
_SECRET_KEY = re.compile(r"code|secret|password|passwd|token|api_?key|pepper", re.IGNORECASE)
_ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$")
MAX_VALUE_CHARS = 512

SMTP_TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 120  # a claim outlives one send (connect + TLS + login + DATA, each bounded by the timeout)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
BATCH_SIZE = 50

TEMPLATE_DIR = Path(__file__).parent / "templates" / "mail"


# --------------------------------------------------------------------------------------------- enqueue


# Built once: a verification queues a mail (code used) and reads the contact for it.
_CONTACT = select(contacts.c.email, contacts.c.locale, contacts.c.display_name).where(
    contacts.c.realm == bindparam("p_realm"), contacts.c.user_id == bindparam("p_user_id")
)
_QUEUE = insert(notifications)


def enqueue(
    conn: Connection,
    *,
    realm: str,
    user_id: str,
    kind: str,
    context: Mapping[str, Any],
    to_address: str | None = None,
    locale: str | None = None,
) -> int | None:
    """Queue one mail in the caller's transaction; None when the user has no usable address.

    Raises ValueError for an unknown kind or a context key that is unknown or names a secret: those
    are programming errors, found by tests, never by users.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; expected one of {', '.join(KINDS)}")
    values = clean_context(context)
    contact = conn.execute(_CONTACT, {"p_realm": realm, "p_user_id": user_id}).first()
    if contact is not None:
        to_address = to_address if to_address is not None else contact.email
        locale = locale or contact.locale
        if contact.display_name and not values.get("display_name"):
            values["display_name"] = contact.display_name[:MAX_VALUE_CHARS]  # for the greeting
    if not to_address:
        return None
    if not is_mail_address(to_address):
        log.warning("notification %s for %s/%s not queued: unusable email address", kind, realm, user_id)
        return None
    now = utcnow()
    values["realm"] = realm
    values.setdefault("when", now.isoformat())
    result = conn.execute(
        _QUEUE,
        {
            "realm": realm,
            "user_id": user_id,
            "kind": kind,
            "to_address": to_address,
            "locale": (locale or "")[:16],  # "" = Settings.default_locale, resolved when sending
            "context": values,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    return int(result.inserted_primary_key[0])


def clean_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Check keys and make values JSON-safe (datetimes become ISO strings, long strings are cut)."""
    if not isinstance(context, Mapping):
        raise ValueError("notification context must be a mapping")
    values: dict[str, Any] = {}
    for key, value in context.items():
        if not isinstance(key, str):
            raise ValueError("notification context keys must be strings")
        if _SECRET_KEY.search(key):
            raise ValueError(f"notification context must never carry a code or secret (key {key!r})")
        if key not in CONTEXT_KEYS:
            allowed = ", ".join(sorted(CONTEXT_KEYS))
            raise ValueError(f"unknown notification context key {key!r}; allowed: {allowed}")
        values[key] = _json_value(key, value)
    url = values.get("account_url")
    if url is not None and not str(url).startswith(("https://", "http://")):
        raise ValueError("account_url must be an http(s) URL")
    return values


def _json_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    raise ValueError(f"notification context value for {key!r} must be a string, number, bool or datetime")


def is_mail_address(value: str) -> bool:
    """A plausible single address with nothing that could smuggle a header or a second recipient."""
    return len(value) <= 320 and _ADDRESS.match(value) is not None


# ---------------------------------------------------------------------------------------------- render


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def resolve_locale(requested: str | None, default: str = "en") -> str:
    """The catalog a mail is written in: the user's locale, else ``default`` (the realm's default or
    BACKUP_CODES_DEFAULT_LOCALE), else English; regions fall back to their language (bridge/locales.py)."""
    return locales.negotiate(requested, default)


def render(kind: str, locale: str | None, context: Mapping[str, Any], settings: Settings) -> RenderedMail:
    """Subject, plain text and HTML for one mail; raises on an unknown kind or a template error."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    lang = resolve_locale(locale, settings.default_locale)
    variables: dict[str, Any] = dict.fromkeys(CONTEXT_KEYS)
    variables.update(context)
    variables.update(
        organisation=settings.organisation_name,
        support_contact=settings.support_contact or None,
        locale=locales.html_lang(lang),
        direction=locales.direction(lang),
        realm_name=context.get("realm_display_name") or context.get("realm") or settings.organisation_name,
    )
    name = f"{kind}.j2"
    token = _CATALOG.set(locales.translations(lang))
    try:
        text_env, html_env = _environment("txt"), _environment("html")
        subject_template = text_env.get_template(name)
        subject = "".join(subject_template.blocks["subject"](subject_template.new_context(variables)))
        text = text_env.get_template(name).render(variables, layout="_layout.txt.j2")
        html = html_env.get_template(name).render(variables, layout="_layout.html.j2")
    finally:
        _CATALOG.reset(token)
    return RenderedMail(subject=_one_line(subject), text=_tidy_text(text), html=html.strip() + "\n")


# The catalog of the mail being rendered: one Environment per format serves every language, and
# the i18n extension's gettext calls read the catalog from here (thread- and worker-safe).
_CATALOG: ContextVar[gettext.NullTranslations] = ContextVar("mail_catalog")


def _gettext(message: str) -> str:
    return _CATALOG.get().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _CATALOG.get().ngettext(singular, plural, n)


@cache
def _environment(fmt: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=fmt == "html",  # noqa: S701 - plain text must stay unescaped; the HTML twin escapes
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # newstyle: placeholders are filled (and escaped in HTML) by Jinja, and a missing one is an error
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        when=format_when,
        device=describe_user_agent,
        mask_email=mask_email,
        paragraphs=_html_paragraphs if fmt == "html" else _text_paragraphs,
        compact=_compact,
    )
    return env


def format_when(value: str | datetime | None) -> str | None:
    """An unambiguous UTC time that reads the same in every locale: ``2026-11-25 20:04 UTC``."""
    if not value:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def describe_user_agent(value: str | None) -> str | None:
    """``Firefox (Linux)`` from a User-Agent header; the raw header (shortened) when unrecognised."""
    if not value:
        return None
    browser, system = browser_and_system(value)
    if browser and system:
        return f"{browser} ({system})"
    return value if len(value) <= 100 else value[:99] + "…"


def mask_email(value: str | None) -> str | None:
    """``j•••@example.com``: enough to recognise one's own address, little for anyone else."""
    if not value or "@" not in value:
        return value
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}•••@{domain}"


def _split_paragraphs(value: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", value) if p.strip()]


def _text_paragraphs(value: str) -> str:
    wrap = textwrap.TextWrapper(width=76, break_long_words=False, break_on_hyphens=False)
    return "\n\n".join(wrap.fill(p) for p in _split_paragraphs(str(value)))


def _html_paragraphs(value: str) -> Markup:
    # A rendered block is already escaped Markup; escape() only touches a plain str.
    safe = str(escape(value))
    return Markup("").join(
        Markup('<p style="margin:0 0 14px;">') + Markup(p) + Markup("</p>\n")  # noqa: S704 - escaped above
        for p in _split_paragraphs(safe)
    )


def _compact(value: str) -> str:
    """Drop blank lines (left by detail rows whose value is missing); keeps Markup as Markup."""
    kept = "\n".join(line for line in str(value).splitlines() if line.strip())
    return Markup(kept) if isinstance(value, Markup) else kept  # noqa: S704 - input was Markup already


def _one_line(value: str) -> str:
    line = " ".join(value.split())
    return line if len(line) <= 200 else line[:199] + "…"


def _tidy_text(value: str) -> str:
    lines = [line.rstrip() for line in value.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# ------------------------------------------------------------------------------------------------ send


def build_message(
    mail: RenderedMail, *, to_address: str, settings: Settings, message_id: str, locale: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = settings.mail_from
    message["To"] = to_address
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    message["Content-Language"] = locale  # after the body: set_content moves Content-* into the first part
    return message


class _Permanent(Exception):
    """Retrying cannot help (the template fails, or the server refuses the recipient for good)."""


class _ConnectionBroken(Exception):
    """The SMTP session is unusable; the rest of the batch waits for the next run."""


_SESSION_ERRORS = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPHeloError,
    smtplib.SMTPNotSupportedError,
)


class _Mailer:
    """One lazily opened SMTP session per batch."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage, to_address: str) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            envelope_from = parseaddr(self._settings.mail_from)[1] or self._settings.mail_from
            self._smtp.send_message(message, from_addr=envelope_from, to_addrs=[to_address])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise _Permanent(f"recipient refused ({codes[0]})") from exc
            raise
        except _SESSION_ERRORS as exc:
            self.abandon()
            raise _ConnectionBroken(_describe(exc, self._settings)) from exc
        except smtplib.SMTPException:
            raise  # about this message only (sender or data refused): the session goes on
        except OSError as exc:  # refused, unreachable, timed out, TLS failure
            self.abandon()
            raise _ConnectionBroken(_describe(exc, self._settings)) from exc

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_ssl:
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if s.smtp_starttls and not s.smtp_ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def abandon(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self._smtp.quit()
        self.abandon()


def _describe(exc: BaseException, settings: Settings) -> str:
    """A short error for logs and ``last_error``: the exception type and message, never the password."""
    text = f"{type(exc).__name__}: {exc}"
    if settings.smtp_password:
        text = text.replace(settings.smtp_password, "***")
    return " ".join(text.split())[:300]


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min … capped at 1 h."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


@dataclass(frozen=True)
class _Claimed:
    id: int
    realm: str
    kind: str
    to_address: str
    locale: str
    context: dict[str, Any]
    attempts: int
    created_at: datetime


class Notifier:
    """Sends due outbox rows over SMTP; safe to run in several processes against one database."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._warned_disabled = False

    def run_once(self, now: datetime | None = None) -> int:
        """Send what is due; returns how many mails were delivered. Never raises: failures are logged."""
        if not self._settings.smtp_host:
            if not self._warned_disabled:
                log.warning("BACKUP_CODES_SMTP_HOST is empty: notifications stay queued, nothing is sent")
                self._warned_disabled = True
            return 0
        try:
            return self._deliver_due(now or utcnow())
        except OperationalError as exc:  # down or restarting: one line per run, not a trace
            log.error(
                "notification run failed, database unavailable; retried next run: %s", unavailable_reason(exc)
            )
            return 0
        except Exception:
            log.exception("notification run failed; due mails are retried on the next run")
            return 0

    def run_forever(self, stop_event: threading.Event) -> None:
        """Poll every ``notify_poll_seconds`` until ``stop_event`` is set."""
        while not stop_event.is_set():
            self.run_once()
            stop_event.wait(self._settings.notify_poll_seconds)

    def _deliver_due(self, now: datetime) -> int:
        delivered = 0
        mailer = _Mailer(self._settings)
        try:
            for row_id in self._due_ids(now):
                claimed = self._claim(row_id, now)
                if claimed is None:
                    continue  # another worker got it first
                try:
                    self._send(mailer, claimed)
                except _ConnectionBroken as exc:
                    self._record_failure(claimed, now, str(exc), permanent=False)
                    break
                except _Permanent as exc:
                    self._record_failure(claimed, now, _describe(exc, self._settings), permanent=True)
                    continue
                except Exception as exc:
                    self._record_failure(claimed, now, _describe(exc, self._settings), permanent=False)
                    continue
                self._record_success(claimed)
                delivered += 1
        finally:
            mailer.close()
        return delivered

    def _send(self, mailer: _Mailer, claimed: _Claimed) -> None:
        try:
            mail = render(claimed.kind, claimed.locale, claimed.context, self._settings)
            lang = resolve_locale(claimed.locale, self._settings.default_locale)
            message = build_message(
                mail,
                to_address=claimed.to_address,
                settings=self._settings,
                message_id=_message_id(claimed, self._settings),
                locale=locales.html_lang(lang),
            )
        except Exception as exc:
            raise _Permanent(f"cannot build the message: {_describe(exc, self._settings)}") from exc
        mailer.send(message, claimed.to_address)

    @staticmethod
    def _due(now: datetime) -> Any:
        n = notifications.c
        return or_(
            and_(n.status == "pending", n.next_attempt_at <= now),
            and_(n.status == "sending", n.claimed_until < now),  # its worker died mid-send
        )

    def _due_ids(self, now: datetime) -> list[int]:
        n = notifications.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(n.id).where(self._due(now)).order_by(n.next_attempt_at, n.id).limit(BATCH_SIZE)
            )
            return [row.id for row in rows]

    def _claim(self, row_id: int, now: datetime) -> _Claimed | None:
        n = notifications.c
        with self._engine.begin() as conn:
            claimed = conn.execute(
                update(notifications)
                .where(n.id == row_id, self._due(now))
                .values(
                    status="sending",
                    claimed_until=now + timedelta(seconds=LEASE_SECONDS),
                    attempts=n.attempts + 1,
                )
            ).rowcount
            if claimed != 1:
                return None
            row = conn.execute(select(notifications).where(n.id == row_id)).one()
        return _Claimed(
            id=row.id,
            realm=row.realm,
            kind=row.kind,
            to_address=row.to_address,
            locale=row.locale or "",
            context=dict(row.context or {}),
            attempts=row.attempts,
            created_at=as_utc(row.created_at) or utcnow(),
        )

    def _record_success(self, claimed: _Claimed) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(notifications)
                .where(notifications.c.id == claimed.id, notifications.c.status == "sending")
                .values(status="sent", sent_at=utcnow(), claimed_until=None, last_error=None)
            )
        log.info("notification %d (%s) sent", claimed.id, claimed.kind)

    def _record_failure(self, claimed: _Claimed, now: datetime, error: str, *, permanent: bool) -> None:
        give_up = permanent or claimed.attempts >= self._settings.notify_max_attempts
        values: dict[str, Any] = {"claimed_until": None, "last_error": error}
        if give_up:
            values["status"] = "failed"
        else:
            values.update(status="pending", next_attempt_at=now + backoff(claimed.attempts))
        with self._engine.begin() as conn:
            conn.execute(
                update(notifications)
                .where(notifications.c.id == claimed.id, notifications.c.status == "sending")
                .values(**values)
            )
        if give_up:
            log.error(
                "notification %d (%s) failed after %d attempt(s): %s",
                claimed.id,
                claimed.kind,
                claimed.attempts,
                error,
            )
        else:
            log.warning(
                "notification %d (%s) attempt %d failed, retry at %s: %s",
                claimed.id,
                claimed.kind,
                claimed.attempts,
                values["next_attempt_at"].isoformat(),
                error,
            )


def _message_id(claimed: _Claimed, settings: Settings) -> str:
    """Stable per outbox row, so a resend after a crash is recognisably the same mail."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<backup-codes.{claimed.id}.{int(claimed.created_at.timestamp())}@{domain}>"
