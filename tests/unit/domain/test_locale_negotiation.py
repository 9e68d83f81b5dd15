"""Which catalog a locale names, decided without I/O: Keycloak tags, bundle names and POSIX names, regions
falling back to their language, Chinese by script, Norwegian as Bokmål, and the next choice when none fits."""

from __future__ import annotations

import pytest

from bridge.domain.locales import KEYCLOAK_LOGIN_LOCALES, best_match

SUPPORTED = KEYCLOAK_LOGIN_LOCALES


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("pt-BR", "pt_BR"),
        ("pt_BR", "pt_BR"),
        ("pt-PT", "pt"),
        ("zh-TW", "zh_Hant"),
        ("zh-Hant", "zh_Hant"),
        ("zh_Hant", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("de-AT", "de"),
        ("DE", "de"),
        ("ja_JP.UTF-8", "ja"),
        ("nb", "no"),
        ("no", "no"),
        ("no-NO", "no"),
        ("nn", "no"),
        ("es-419", "es"),
    ],
)
def test_a_keycloak_tag_finds_its_catalog(requested: str, expected: str) -> None:
    assert best_match((requested,), SUPPORTED, "en") == expected


@pytest.mark.parametrize("unknown", ["xx", "tlh", "", None, "../../etc/passwd", "e", "12"])
def test_an_unknown_locale_falls_back_to_the_next_choice(unknown: str) -> None:
    assert best_match((unknown, "de-CH"), SUPPORTED, "en") == "de"
    assert best_match((unknown,), SUPPORTED, "en") == "en"


def test_a_language_without_a_catalog_yields_to_the_realm_default() -> None:
    assert best_match(("fr-CA", "es"), ("en", "es"), "en") == "es"
