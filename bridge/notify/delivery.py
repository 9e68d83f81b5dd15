"""Delivery: the worker that claims due outbox rows and sends them over SMTP, with retries.

Claims are guarded updates, so several processes can share one database; delivery is at least once
(bridge/notify/__init__.py).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.exc import OperationalError

from bridge.domain import locales
from bridge.notify.rendering import RenderedMail, render, resolve_locale
from bridge.settings import Settings
from bridge.store.db import as_utc, unavailable_reason, utcnow
from bridge.store.schema import notifications

log = logging.getLogger("bridge.notify")  # one logger for the package: operators filter on it

SMTP_TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 120  # a claim outlives one send (connect + TLS + login + DATA, each bounded by the timeout)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
BATCH_SIZE = 50


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
