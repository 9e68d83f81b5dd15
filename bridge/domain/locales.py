"""The languages we speak: the 41 locales Keycloak 26.7's own login theme ships.

One list for everything that must follow Keycloak's languages (login-page messages today; mails and the
code sheet next), spelled as Keycloak's message bundles are named: ``messages_<locale>.properties``. Keycloak
maps the ``zh-CN``/``zh-TW`` tags of its locale selector to ``zh_Hans``/``zh_Hant`` itself.
``tests/unit/contract/test_theme_locales.py`` checks this list against the pinned Keycloak distribution.
"""

from __future__ import annotations

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
