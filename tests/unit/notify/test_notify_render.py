"""Mail rendering: every kind in every language, escaping, and the lines every mail must carry."""

from __future__ import annotations

import pytest

from bridge import notify
from bridge.settings import Settings

SETTINGS = Settings(organisation_name="Acme Corp", support_contact="the Acme service desk")
FULL = {
    "realm": "acme",
    "realm_display_name": "Acme SSO",
    "username": "jdoe",
    "display_name": "Jane Doe",
    "when": "2026-11-25T20:04:00+00:00",
    "client_ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "device_name": "Work laptop",
    "count": 10,
    "remaining": 2,
    "threshold": 3,
    "until": "2026-11-25T21:04:00+00:00",
    "old_email": "jane@old.example",
    "new_email": "jane@new.example",
    "account_url": "https://sso.example.com/realms/acme/account",
}
ANTI_PHISHING = {
    "en": "No one from Acme Corp will ever ask you for your backup codes.",
    "es": "Nadie de Acme Corp le pedirá jamás sus códigos de respaldo.",
}
NOT_YOU = {"en": "If this wasn't you", "es": "Si no ha sido usted"}
EVERY = [(kind, locale) for kind in notify.KINDS for locale in ("en", "es")]


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_every_kind_renders_in_every_language_with_the_full_context(kind: str, locale: str) -> None:
    mail = notify.render(kind, locale, FULL, SETTINGS)

    assert mail.subject and "\n" not in mail.subject
    assert "Acme SSO" in mail.subject
    assert "None" not in mail.text and "None" not in mail.html


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_every_kind_renders_with_no_context_at_all(kind: str, locale: str) -> None:
    mail = notify.render(kind, locale, {}, SETTINGS)

    assert mail.subject
    assert "None" not in mail.subject + mail.text + mail.html


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_every_mail_carries_the_anti_phishing_line(kind: str, locale: str) -> None:
    mail = notify.render(kind, locale, FULL, SETTINGS)

    assert ANTI_PHISHING[locale] in " ".join(mail.text.split())
    assert ANTI_PHISHING[locale] in mail.html


@pytest.mark.parametrize(("kind", "locale"), EVERY)
def test_every_mail_says_what_to_do_if_it_was_not_you(kind: str, locale: str) -> None:
    mail = notify.render(kind, locale, FULL, SETTINGS)

    assert NOT_YOU[locale].upper() in mail.text
    assert NOT_YOU[locale] in mail.html
    assert "the Acme service desk" in mail.text


def test_code_used_mail_tells_when_where_from_which_device_and_how_many_remain() -> None:
    text = notify.render("code_used", "en", FULL, SETTINGS).text

    assert "2026-11-25 20:04 UTC" in text
    assert "203.0.113.7" in text
    assert "Firefox (Linux)" in text
    assert "2 unused backup codes left" in text
    assert "running low" in text


def test_html_escapes_every_user_controlled_value() -> None:
    hostile = dict(
        FULL,
        display_name="<script>alert(1)</script>",
        realm_display_name='Acme "SSO" <b>',
        username="x<img src=x onerror=alert(1)>",
        user_agent="<iframe>",
    )

    html = notify.render("code_used", "en", hostile, SETTINGS).html

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "<iframe>" not in html and "<b>" not in html


def test_plain_text_shows_user_values_unescaped() -> None:
    mail = notify.render("codes_issued", "en", dict(FULL, display_name="Tom & Jerry"), SETTINGS)

    assert "Hello Tom & Jerry," in mail.text


def test_email_change_shows_both_addresses_masked() -> None:
    text = notify.render("email_changed", "en", FULL, SETTINGS).text

    assert "j•••@old.example" in text and "j•••@new.example" in text
    assert "jane@new.example" not in text


def test_regional_locale_uses_its_language() -> None:
    assert notify.render("unlocked", "es-MX", FULL, SETTINGS).subject.startswith("El inicio de sesión")


def test_unknown_locale_falls_back_to_english() -> None:
    assert notify.render("unlocked", "xx", FULL, SETTINGS).subject.startswith("Sign-in with backup codes")


def test_missing_locale_uses_the_configured_default() -> None:
    settings = Settings(organisation_name="Acme Corp", default_locale="es")

    assert notify.resolve_locale("", settings.default_locale) == "es"
    assert notify.render("unlocked", "", FULL, settings).subject.startswith("El inicio de sesión")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        notify.render("codes_leaked", "en", FULL, SETTINGS)


def test_html_declares_its_language() -> None:
    assert '<html lang="es" dir="ltr">' in notify.render("locked", "es", FULL, SETTINGS).html


def test_generic_help_desk_is_named_when_no_support_contact_is_configured() -> None:
    text = notify.render("locked", "en", FULL, Settings(organisation_name="Acme Corp")).text

    assert "your IT help desk" in text
