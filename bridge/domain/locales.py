"""The languages we speak: the 41 locales Keycloak 26.7's own login theme ships.

One list for everything that must follow Keycloak's languages (login pages, mails, the code sheet),
spelled as Keycloak's message bundles are named: ``messages_<locale>.properties``. Keycloak maps the
``zh-CN``/``zh-TW`` tags of its locale selector to ``zh_Hans``/``zh_Hant`` itself. Which catalog a tag
names is decided here, without I/O; the catalogs themselves are read by :mod:`bridge.i18n.catalogs`.
``tests/unit/contract/test_theme_locales.py`` checks this list against the pinned Keycloak distribution.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from babel.core import get_global

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


# Names Babel knows under another code than Keycloak's bundle (Norwegian Bokmål/Nynorsk -> "no").
_BUNDLE_ALIASES = {"nb": "no", "nn": "no"}
_PARSE_ALIASES = {"no": "nb"}


def best_match(requested: tuple[str | None, ...], available: tuple[str, ...], fallback: str) -> str:
    """The first of ``available`` that one of ``requested`` names (user's locale, realm default, setting).

    Each may be a Keycloak tag (``pt-BR``, ``zh-TW``), a bundle name (``zh_Hant``) or a POSIX name
    (``de_AT.UTF-8``); a region we have no catalog for falls back to its language (``de-AT`` -> ``de``),
    Chinese goes by script (``zh-TW``/``zh-HK`` -> ``zh_Hant``, ``zh``/``zh-CN`` -> ``zh_Hans``). When
    none matches, ``fallback``.
    """
    for tag in requested:
        found = _bundle_for(tag, available)
        if found is not None:
            return found
    return fallback


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
