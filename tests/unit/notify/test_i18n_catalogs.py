"""The gettext catalogs of mails and sheet: complete, well-formed, up to date with the code, and every
mail renders from them in every language that has one (a new bridge/locale/<ll> is tested by being there)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bridge import notify
from bridge.domain import locales
from bridge.i18n import catalogs
from bridge.settings import Settings
from tests.unit.notify.test_notify_render import FULL as RENDER_CONTEXT

REPO = Path(__file__).resolve().parents[3]
POT = catalogs.CATALOG_DIR / "messages.pot"
CATALOGS = sorted(p.parent.parent.name for p in catalogs.CATALOG_DIR.glob("*/LC_MESSAGES/messages.po"))
TRANSLATED = [locale for locale in CATALOGS if locale != catalogs.SOURCE_LOCALE]
SETTINGS = Settings(organisation_name="Acme Corp")
FULL = {**RENDER_CONTEXT, "lock_lifted": True}  # every placeholder any mail kind can use
LEFTOVER = re.compile(r"%\(|\{\{|\{%|\}\}|%\)s")


def template_ids() -> set[object]:
    with POT.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def catalog(locale: str):
    with (catalogs.CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


# ---------------------------------------------------------------------------------------------- catalogs


def test_english_and_spanish_catalogs_are_present() -> None:
    assert {"en", "es"} <= set(CATALOGS)


def test_the_template_matches_what_the_code_and_templates_say(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg", "-o", str(fresh),
         "bridge"],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    with fresh.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}

    assert extracted == template_ids(), "run scripts/i18n.sh extract (and update) after changing a msgid"


@pytest.mark.parametrize("locale", CATALOGS)
def test_every_message_of_the_template_is_translated(locale: str) -> None:
    translated = catalog(locale)
    by_id = {m.id: m for m in translated if m.id}
    missing = [
        mid for mid in template_ids()
        if mid not in by_id or by_id[mid].fuzzy
        or not all(by_id[mid].string if isinstance(by_id[mid].string, tuple) else [by_id[mid].string])
    ]  # fmt: skip

    assert missing == [], f"{locale}: {len(missing)} untranslated, e.g. {missing[:3]}"


@pytest.mark.parametrize("locale", CATALOGS)
def test_every_translation_keeps_the_placeholders_of_its_message(locale: str) -> None:
    wrong = [m.id for m in catalog(locale) if m.id and not catalogs._placeholders_fit(m.id, m.string)]

    assert wrong == []


@pytest.mark.parametrize("locale", CATALOGS)
def test_every_catalog_has_as_many_plural_forms_as_its_language(locale: str) -> None:
    translated = catalog(locale)
    short = [m.id for m in translated if isinstance(m.id, tuple) and len(m.string) != translated.num_plurals]

    assert short == []


# ------------------------------------------------------------------------------------------------- mails


@pytest.mark.parametrize("kind", notify.KINDS)
@pytest.mark.parametrize("locale", CATALOGS)
def test_every_mail_renders_in_every_catalog_with_no_placeholder_left(locale: str, kind: str) -> None:
    for context in (FULL, {}, {**FULL, "remaining": 1, "count": 1, "username": None, "until": None}):
        mail = notify.render(kind, locale, context, SETTINGS)

        assert mail.subject and not LEFTOVER.search(mail.subject + mail.text + mail.html)
        assert "None" not in mail.subject + mail.text


@pytest.mark.parametrize("kind", notify.KINDS)
@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_mail_is_in_the_language_of_its_catalog(locale: str, kind: str) -> None:
    english = notify.render(kind, "en", FULL, SETTINGS)
    mail = notify.render(kind, locale, FULL, SETTINGS)

    assert mail.subject != english.subject
    assert f'lang="{locales.html_lang(locale)}"' in mail.html


def test_a_user_locale_without_a_catalog_gets_the_configured_default_language() -> None:
    mail = notify.render("unlocked", "xx", FULL, Settings(organisation_name="Acme", default_locale="es"))

    assert mail.subject.startswith("El inicio de sesión")


# --------------------------------------------------------------------------------- incomplete catalogs


def write_catalog(root: Path, locale: str, entries: dict[str, str]) -> None:
    lines = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=utf-8\\n"', ""]
    for msgid, msgstr in entries.items():
        lines += [f"msgid {_po(msgid)}", f"msgstr {_po(msgstr)}", ""]
    target = root / locale / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "messages.po").write_text("\n".join(lines), encoding="utf-8")


def _po(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_a_message_missing_from_a_catalog_is_written_in_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_catalog(tmp_path, "de", {"Sign-in with backup codes to %(realm)s is unlocked":
                                   "Die Anmeldung mit Backup-Codes bei %(realm)s ist entsperrt"})  # fmt: skip
    monkeypatch.setattr(catalogs, "CATALOG_DIR", tmp_path)

    mail = notify.render("unlocked", "de", FULL, SETTINGS)

    assert mail.subject == "Die Anmeldung mit Backup-Codes bei Acme SSO ist entsperrt"
    assert "You can sign in to your Acme SSO account (jdoe) with your backup codes again." in mail.html


def test_a_translation_with_a_wrong_placeholder_is_replaced_by_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_catalog(tmp_path, "de", {"Sign-in with backup codes to %(realm)s is unlocked":
                                   "Die Anmeldung bei %(relm)s ist entsperrt"})  # fmt: skip
    monkeypatch.setattr(catalogs, "CATALOG_DIR", tmp_path)

    assert notify.render("unlocked", "de", FULL, SETTINGS).subject.startswith("Sign-in with backup codes")


def test_a_catalog_without_a_compiled_mo_is_compiled_from_its_po(tmp_path: Path) -> None:
    write_catalog(tmp_path, "de", {"Backup codes": "Backup-Codes"})

    assert catalogs._translations(tmp_path, "de").gettext("Backup codes") == "Backup-Codes"


def test_right_to_left_languages_mark_their_mails_right_to_left() -> None:
    assert locales.direction("ar") == "rtl" and locales.direction("de") == "ltr"
    assert 'dir="ltr"' in notify.render("locked", "en", FULL, SETTINGS).html


def test_negotiation_picks_from_the_catalogs_on_disk() -> None:
    assert catalogs.negotiate("pt-BR") == "pt_BR" and catalogs.negotiate("xx", "tlh") == "en"
