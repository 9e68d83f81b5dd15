"""The code sheet in every language that has a catalog: its heading, labels and date are translated."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.domain import locales
from bridge.i18n import catalogs
from bridge.sheet import CodeSheet, format_date, render_pdf, render_txt

CATALOGS = sorted(p.parent.parent.name for p in catalogs.CATALOG_DIR.glob("*/LC_MESSAGES/messages.po"))
WHEN = datetime(2026, 11, 25, 20, 4, tzinfo=UTC)
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def sheet(locale: str) -> CodeSheet:
    return CodeSheet(
        codes=[f"{n:02d}AB-CDEF-GHJK-MN{n:02d}" for n in range(1, 11)],
        username="jdoe",
        realm_display_name="Acme SSO",
        organisation="Acme Corp",
        created_at=WHEN,
        locale=locales.html_lang(locale),  # as Keycloak sends it: pt-BR, zh-Hant
    )


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    source = tmp_path / "sheet.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(unicodedata.normalize("NFKC", text).translate(dict.fromkeys(map(ord, BIDI))).split())


def translated(locale: str, message: str) -> str:
    return catalogs.translations(locale).gettext(message)


def as_extracted(text: str) -> str:
    """``text`` as pdftotext gives shaped text back, to compare like with like.

    An Arabic lam-alef ligature comes out as alef, then lam; Thai SARA AM as its two parts (NFKD), with a
    space where a mark sits apart. The glyphs are right (tests/unit/sheet/test_sheet_pdf.py checks names).
    """
    text = re.sub("\u0644([\u0622\u0623\u0625\u0627])", "\\1\u0644", text)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKD", text))


@pytest.mark.parametrize("locale", CATALOGS)
def test_the_pdf_sheet_carries_the_translated_heading(locale: str, tmp_path: Path) -> None:
    text = as_extracted(pdftotext(render_pdf(sheet(locale)), tmp_path))

    assert as_extracted(translated(locale, "Backup codes")) in text
    assert as_extracted(translated(locale, "How to use these codes")) in text


@pytest.mark.parametrize("locale", CATALOGS)
def test_the_text_sheet_is_in_the_language_of_its_catalog(locale: str) -> None:
    text = render_txt(sheet(locale))

    assert translated(locale, "Backup codes") in text and "%(" not in text


@pytest.mark.parametrize("locale", [c for c in CATALOGS if c != "en"])
def test_a_translated_sheet_no_longer_reads_in_english(locale: str) -> None:
    assert "How to use these codes" not in render_txt(sheet(locale))


def test_the_date_names_the_month_in_the_sheets_language() -> None:
    assert format_date(WHEN, "en") == "25 November 2026, 20:04 UTC"
    assert format_date(WHEN, "es-MX") == "25 de noviembre de 2026, 20:04 UTC"


def test_a_sheet_in_an_unknown_language_is_in_english() -> None:
    assert "How to use these codes" in render_txt(sheet("xx"))
