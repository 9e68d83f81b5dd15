"""Mail notifications: an outbox row written in the caller's transaction, and a worker that sends it.

NIST SP 800-63B-4 §4.2 makes a notification a SHALL when recovery codes are replaced or used to
recover an account; OWASP asks for one on every MFA change and lockout. Writing the outbox row in the
same transaction as the event queues a mail exactly when the event commits, and keeps SMTP out of the
login path: an outage only delays mail, the worker retries with exponential backoff.

Several bridge processes may run a :class:`Notifier` against one database: a row is claimed with a
guarded ``UPDATE … WHERE id = ? AND <still due>`` and the row count decides who sends it. Delivery is
at least once: a worker that dies between sending and recording the result leaves a claim that
expires, and the mail goes out again with the same Message-ID so mail clients can fold the copies.

The package, by concern: ``outbox`` (queue a mail with the event), ``rendering`` (a mail in the
recipient's language from one template per kind and the gettext catalogs), ``delivery`` (the SMTP
worker). Callers use the names re-exported here: ``from bridge import notify; notify.enqueue(...)``.
"""

from __future__ import annotations

from bridge.notify.delivery import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_MAX_SECONDS,
    BATCH_SIZE,
    LEASE_SECONDS,
    SMTP_TIMEOUT_SECONDS,
    Notifier,
    backoff,
    build_message,
)
from bridge.notify.outbox import (
    CONTEXT_KEYS,
    KINDS,
    MAX_VALUE_CHARS,
    clean_context,
    enqueue,
    is_mail_address,
    log,
)
from bridge.notify.rendering import (
    TEMPLATE_DIR,
    RenderedMail,
    describe_user_agent,
    format_when,
    mask_email,
    render,
    resolve_locale,
)

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_MAX_SECONDS",
    "BATCH_SIZE",
    "CONTEXT_KEYS",
    "KINDS",
    "LEASE_SECONDS",
    "MAX_VALUE_CHARS",
    "SMTP_TIMEOUT_SECONDS",
    "TEMPLATE_DIR",
    "Notifier",
    "RenderedMail",
    "backoff",
    "build_message",
    "clean_context",
    "describe_user_agent",
    "enqueue",
    "format_when",
    "is_mail_address",
    "log",
    "mask_email",
    "render",
    "resolve_locale",
]
