"""The plain-text sheet: the same content as the PDF, for the .txt download."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.sheet import CodeSheet, render_txt

CODES = [f"{n:02d}AB-CDEF-GHJK-MN{n:02d}" for n in range(1, 11)]


def sheet(**overrides: object) -> CodeSheet:
    values: dict[str, object] = {
        "codes": CODES,
        "username": "José Müller",
        "realm_display_name": "Acme SSO",
        "organisation": "Acme Corp",
        "created_at": datetime(2026, 11, 25, 20, 4, tzinfo=UTC),
    }
    values.update(overrides)
    return CodeSheet(**values)  # type: ignore[arg-type]


def test_txt_lists_every_code_numbered_with_a_tick_box() -> None:
    text = render_txt(sheet())

    assert "[ ]  1.  01AB-CDEF-GHJK-MN01" in text
    assert "[ ] 10.  10AB-CDEF-GHJK-MN10" in text
    assert all(code in text for code in CODES)


def test_txt_has_a_header_with_realm_account_and_date() -> None:
    lines = render_txt(sheet()).splitlines()

    assert lines[0] == "Backup codes — Acme SSO"
    assert "Account: José Müller" in lines
    assert "Created: 25 November 2026, 20:04 UTC" in lines


def test_txt_carries_instructions_and_the_anti_phishing_line() -> None:
    text = " ".join(render_txt(sheet()).split())

    assert "Each code works only once." in text
    assert "Dashes and spaces are optional." in text
    assert "No one from Acme Corp will ever ask you for these codes." in text


def test_txt_lines_are_short_enough_to_print() -> None:
    assert max(len(line) for line in render_txt(sheet()).splitlines()) <= 72


def test_txt_in_spanish() -> None:
    text = " ".join(render_txt(sheet(locale="es")).split())

    assert "Códigos de respaldo — Acme SSO" in text
    assert "Nadie de Acme Corp le pedirá jamás estos códigos." in text
    assert "25 de noviembre de 2026, 20:04 UTC" in text


def test_txt_without_organisation_still_warns_against_phishing() -> None:
    text = " ".join(render_txt(sheet(organisation="")).split())

    assert "No one will ever ask you for these codes" in text


def test_txt_refuses_an_empty_code_list() -> None:
    with pytest.raises(ValueError):
        render_txt(sheet(codes=[]))


# Embeddings and overrides, isolates, and the direction marks: each can reorder what a reader sees.
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
BIDI += ["\u200e", "\u200f", "\u061c"]
BIDI_IDS = [f"U+{ord(c):04X}" for c in BIDI]


@pytest.mark.parametrize("control", BIDI, ids=BIDI_IDS)
def test_txt_prints_every_name_without_bidi_controls(control: str) -> None:
    text = render_txt(
        sheet(
            username=f"alice{control}gnp.exe",
            realm_display_name=f"Acme{control} SSO",
            organisation=f"Org{control}",
        )
    )

    assert not set(BIDI) & set(text)
    lines = text.splitlines()
    assert "Account: alicegnp.exe" in lines and "Backup codes — Acme SSO" in lines and "Org" in lines
