"""The languages we speak: the 41 locales Keycloak 26.7's own login theme ships.

One list for everything that must follow Keycloak's languages (login-page messages today; mails and the
code sheet next), spelled as Keycloak's message bundles are named: ``messages_<locale>.properties``. Keycloak
maps the ``zh-CN``/``zh-TW`` tags of its locale selector to ``zh_Hans``/``zh_Hant`` itself.
``tests/unit/contract/test_theme_locales.py`` checks this list against the pinned Keycloak distribution.
"""

from __future__ import annotations

import gettext
import io
import logging
import re
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

KEYCLOAK_LOGIN_LOCALES: tuple[str, ...] = (
    "ar", "az", "ca", "cs", "da", "de", "el", "en", "es", "eu", "fa", "fi", "fr", "hr",
    "hu", "hy", "id", "it", "ja", "ka", "kk", "ko", "ky", "lt", "lv", "nl", "no", "pl",
    "pt", "pt_BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "uk", "vi", "zh_Hans", "zh_Hant",
)  # fmt: skip

# Written right to left; Keycloak marks these pages dir="rtl" itself (locale.rtl), our pages follow.
RIGHT_TO_LEFT_LOCALES: frozenset[str] = frozenset({"ar", "fa"})

# Keycloak's locale selector (theme.properties `locales=`, a realm's supportedLocales) names the two Chinese
# bundles by region, not by script.
_TAG_OF_BUNDLE = {"zh_Hans": "zh-CN", "zh_Hant": "zh-TW"}


def language_tag(locale: str) -> str:
    """The tag Keycloak uses for a bundle suffix (``pt_BR`` -> ``pt-BR``, ``zh_Hans`` -> ``zh-CN``): what a
    realm lists in supportedLocales and what ``kc_locale`` and the user's ``locale`` attribute hold."""
    return _TAG_OF_BUNDLE.get(locale, locale.replace("_", "-"))


# ------------------------------------------------------------------------------------- message catalogs
# Mails and the code sheet are translated with gettext catalogs: one bridge/locale/<locale>/LC_MESSAGES/
# messages.po per language, extracted from the templates and bridge code by `scripts/i18n.sh extract` and
# compiled to .mo at build time (scripts/bootstrap.sh, the Dockerfile). A source checkout without .mo files
# still works: the .po is compiled in memory on first use.

CATALOG_DIR = Path(__file__).resolve().parents[1] / "locale"  # bridge/locale: shared by notify and sheet
DOMAIN = "messages"
SOURCE_LOCALE = "en"  # msgids are English: a missing translation reads as English, never as a key

# Names Babel knows under another code than Keycloak's bundle (Norwegian Bokmål/Nynorsk -> "no").
_BUNDLE_ALIASES = {"nb": "no", "nn": "no"}
_PARSE_ALIASES = {"no": "nb"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

log = logging.getLogger(__name__)


def catalog_locales() -> tuple[str, ...]:
    """The locales with a catalog in bridge/locale, plus English (the msgids themselves), sorted."""
    return _catalog_locales(CATALOG_DIR)


@cache
def _catalog_locales(directory: Path) -> tuple[str, ...]:
    found = {p.parent.parent.name for p in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    found |= {p.parent.parent.name for p in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return tuple(sorted(found | {SOURCE_LOCALE}))


def negotiate(*requested: str | None) -> str:
    """The catalog for the first of ``requested`` we can speak (user's locale, realm default, setting).

    Each may be a Keycloak tag (``pt-BR``, ``zh-TW``), a bundle name (``zh_Hant``) or a POSIX name
    (``de_AT.UTF-8``); a region we have no catalog for falls back to its language (``de-AT`` -> ``de``),
    Chinese goes by script (``zh-TW``/``zh-HK`` -> ``zh_Hant``, ``zh``/``zh-CN`` -> ``zh_Hans``). When
    none matches, English.
    """
    available = catalog_locales()
    for tag in requested:
        found = _bundle_for(tag, available)
        if found is not None:
            return found
    return SOURCE_LOCALE


def _bundle_for(tag: str | None, available: tuple[str, ...]) -> str | None:
    if not tag or not isinstance(tag, str):
        return None
    subtags = tag.strip().replace("-", "_").split("_")
    # Keycloak's Norwegian bundle is "no", a macrolanguage CLDR has no locale data for: parse it as Bokmål.
    subtags[0] = _PARSE_ALIASES.get(subtags[0].lower(), subtags[0])
    try:
        parsed = Locale.parse("_".join(subtags))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    language = _BUNDLE_ALIASES.get(parsed.language, parsed.language)
    script = parsed.script or _likely_script(parsed)
    for candidate in (f"{language}_{parsed.territory}", f"{language}_{script}", language):
        if candidate in available:
            return candidate
    return None


def _likely_script(parsed: Locale) -> str | None:
    """CLDR's likely script (``zh`` -> Hans): picks the Chinese catalog for a tag that names none."""
    likely = get_global("likely_subtags").get(parsed.language)
    try:
        return Locale.parse(likely).script if likely else None
    except (ValueError, UnknownLocaleError):  # a likely locale without CLDR data of its own
        return None


def cldr_locale(bundle: str) -> str:
    """The name Babel's CLDR data knows a catalog by (dates, plural rules): Keycloak's ``no`` is ``nb``."""
    return _PARSE_ALIASES.get(bundle, bundle)


def html_lang(locale: str) -> str:
    """The BCP 47 tag for ``lang=`` attributes and Content-Language: ``pt_BR`` -> ``pt-BR``,
    ``zh_Hant`` -> ``zh-Hant``."""
    return locale.replace("_", "-")


def direction(locale: str) -> str:
    """``rtl`` for the languages written right to left, else ``ltr``."""
    return "rtl" if locale in RIGHT_TO_LEFT_LOCALES else "ltr"


def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of ``locale`` (English msgids when there is none), loaded once per process.

    A translation whose placeholders do not match its msgid's (a translator typo such as ``%(relm)s``)
    is dropped with a warning, so the English sentence is used instead of a mail failing to render.
    """
    return _translations(CATALOG_DIR, locale)


@cache
def _translations(directory: Path, locale: str) -> gettext.NullTranslations:
    catalog = _read_catalog(directory / locale / "LC_MESSAGES", locale)
    if catalog is None:
        return gettext.NullTranslations()
    for message in list(catalog):
        if message.id and message.string and not _placeholders_fit(message.id, message.string):
            log.warning(
                "catalog %s: translation of %r has other placeholders; English is used",
                locale,
                message.id if isinstance(message.id, str) else message.id[0],
            )
            message.string = ("",) * len(message.string) if isinstance(message.string, tuple) else ""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _read_catalog(directory: Path, locale: str) -> Catalog | None:
    """The .mo compiled at build time, else the .po compiled now (a source checkout), else None."""
    mo, po = directory / f"{DOMAIN}.mo", directory / f"{DOMAIN}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return read_mo(handle)
    if po.is_file():
        with po.open("rb") as handle:
            return read_po(handle, locale=locale)
    return None


def _placeholders_fit(msgid: str | tuple[str, ...], translation: str | tuple[str, ...]) -> bool:
    """Every form of the translation formats with the msgid's named placeholders, and nothing else."""
    ids = (msgid,) if isinstance(msgid, str) else msgid
    forms = (translation,) if isinstance(translation, str) else translation
    allowed = {name for text in ids for name in _PLACEHOLDER.findall(text)}
    probe = dict.fromkeys(allowed, 1)
    for form in forms:
        if not form:
            continue
        if not set(_PLACEHOLDER.findall(form)) <= allowed:
            return False
        try:
            form % probe
        except (KeyError, ValueError, TypeError):
            return False
    return True
