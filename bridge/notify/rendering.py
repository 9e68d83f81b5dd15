"""Rendering a mail: one Jinja2 template per kind, in the recipient's language from the gettext catalogs.

The templates (bridge/notify/templates/mail) mark their sentences with ``{% trans %}``/``_()``; the catalogs
(bridge/locale, see bridge/i18n/catalogs.py) translate them, and a sentence a catalog lacks stays English.
"""

from __future__ import annotations

import gettext
import logging
import re
import textwrap
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from bridge.domain import locales
from bridge.domain.devices import browser_and_system
from bridge.i18n import catalogs
from bridge.notify.outbox import CONTEXT_KEYS, KINDS
from bridge.settings import Settings

log = logging.getLogger("bridge.notify")  # one logger for the package: operators filter on it

TEMPLATE_DIR = Path(__file__).parent / "templates" / "mail"


# ---------------------------------------------------------------------------------------------- render


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def resolve_locale(requested: str | None, default: str = "en") -> str:
    """The catalog a mail is written in: the user's locale, else ``default`` (the realm's default or
    BACKUP_CODES_DEFAULT_LOCALE), else English; regions fall back to their language
    (bridge/i18n/catalogs.py)."""
    return catalogs.negotiate(requested, default)


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
    token = _CATALOG.set(catalogs.translations(lang))
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
