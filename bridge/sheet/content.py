"""What the code sheet says, in the user's language: its names, its date and its sentences.

Shared by the PDF (bridge/sheet/pdf.py) and the plain-text twin (bridge/sheet/text.py) so both print
the same content in the same order. The sentences come from the gettext catalogs
(bridge/i18n/catalogs.py); month names from CLDR through Babel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from babel.dates import get_month_names

from bridge.domain import locales
from bridge.i18n import catalogs

# The numbered instructions (keys of :func:`sentences`), in the order both sheets print them.
STEPS = ("step_once", "step_login", "step_offline", "step_renew")

# Bidirectional formatting characters: embeddings and overrides (U+202A to 202E), isolates (U+2066 to
# 2069) and the invisible direction marks (U+200E, U+200F, U+061C). In a name they can make
# "alice<U+202E>gnp.exe" print as "aliceexe.png", or pull the text after the name into another order. A
# name is printed as the characters it is made of: they are removed, and letters keep their own direction.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NO_BIDI_CONTROLS = dict.fromkeys(map(ord, BIDI_CONTROLS))


@dataclass(frozen=True)
class CodeSheet:
    codes: list[str]
    username: str
    realm_display_name: str
    organisation: str
    created_at: datetime
    locale: str = "en"


def without_bidi_controls(name: str) -> str:
    """``name`` as it is stored, minus the characters that would reorder it or its line when shown."""
    return name.translate(_NO_BIDI_CONTROLS)


def printable(sheet: CodeSheet) -> CodeSheet:
    """The sheet with every name it prints (account, realm, organisation) free of bidi controls."""
    return replace(
        sheet,
        username=without_bidi_controls(sheet.username),
        realm_display_name=without_bidi_controls(sheet.realm_display_name),
        organisation=without_bidi_controls(sheet.organisation),
    )


def resolve_locale(locale: str | None) -> str:
    """The catalog the sheet is written in: ``es-MX`` -> ``es``, ``zh-TW`` -> ``zh_Hant``; a language
    without a catalog falls back to English (bridge/i18n/catalogs.py)."""
    return catalogs.negotiate(locale)


def format_date(moment: datetime, locale: str) -> str:
    """``25 November 2026, 20:04 UTC``: spelled-out month (CLDR's, via Babel), so no day/month confusion."""
    lang = resolve_locale(locale)
    _ = catalogs.translations(lang).gettext
    utc = aware(moment).astimezone(UTC)
    month = get_month_names("wide", "format", locale=locales.cldr_locale(lang))[utc.month]
    # Translators: the creation date on the code sheet. %(month)s is the month's name in your language
    # (from CLDR: "November", "noviembre", "11月"); keep "UTC". Reorder the parts as your language writes
    # a date, e.g. "%(year)s年%(month)s%(day)s日 %(time)s UTC".
    return _("%(day)s %(month)s %(year)s, %(time)s UTC") % {
        "day": utc.day,
        "month": month,
        "year": utc.year,
        "time": utc.strftime("%H:%M"),
    }


def aware(moment: datetime) -> datetime:
    """A naive time is taken as UTC, the bridge's only time zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sentences(sheet: CodeSheet) -> dict[str, str]:
    """Every sentence the sheet prints, in the sheet's language (English where a catalog lacks one)."""
    _ = catalogs.translations(resolve_locale(sheet.locale)).gettext
    strings = {
        # Translators: the sheet's title, as on Keycloak's own recovery-code pages in your language.
        "title": _("Backup codes"),
        # Translators: label before the username on the code sheet.
        "account": _("Account"),
        # Translators: label before the date the codes were created.
        "created": _("Created"),
        "caption": _("Each code works once. Tick it off when you have used it."),
        "howto": _("How to use these codes"),
        "step_once": _("Each code works only once. Tick its box as soon as you have used it."),
        "step_login": _(
            "When you sign in and are asked for a backup code, type any unused code. "
            "Dashes and spaces are optional."
        ),
        "step_offline": _(
            "Keep this sheet somewhere safe and offline, as you would your passport. "
            "Do not store the codes in email, chat or as a photo."
        ),
        "step_renew": _(
            "When only a few codes remain, sign in and create a new set. A new set cancels "
            "every code on this sheet, so destroy it then."
        ),
        # Translators: page footer of the code sheet, e.g. "Page 1 of 2".
        "page": _("Page %(page)s of %(pages)s"),
    }
    if sheet.organisation:
        strings["phishing"] = _("No one from %(organisation)s will ever ask you for these codes.") % {
            "organisation": sheet.organisation
        }
    else:
        strings["phishing"] = _("No one will ever ask you for these codes, not even your IT help desk.")
    strings["phishing_more"] = _(
        "Type them only into the %(realm)s sign-in page. Anyone who asks for them, by "
        "phone, email or chat, is trying to break into your account."
    ) % {"realm": sheet.realm_display_name}
    return strings


def check(sheet: CodeSheet) -> None:
    if not sheet.codes or not all(isinstance(code, str) and code.strip() for code in sheet.codes):
        raise ValueError("a code sheet needs at least one code, each a non-empty string")
    if not sheet.username.strip() or not sheet.realm_display_name.strip():
        raise ValueError("a code sheet needs the username and the realm's display name")
