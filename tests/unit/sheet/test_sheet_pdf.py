"""The printable PDF sheet: every code, readable on A4 and Letter, any name, nothing else secret."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from bridge.sheet import CodeSheet, render_pdf

CODES = [f"{n:02d}AB-CDEF-GHJK-MN{n:02d}" for n in range(1, 11)]
WHEN = datetime(2026, 11, 25, 20, 4, tzinfo=UTC)
PAPER_POINTS = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0)}


def sheet(**overrides: object) -> CodeSheet:
    values: dict[str, object] = {
        "codes": CODES,
        "username": "jdoe",
        "realm_display_name": "Acme SSO",
        "organisation": "Acme Corp",
        "created_at": WHEN,
    }
    values.update(overrides)
    return CodeSheet(**values)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def run_pdftotext(pdf: bytes, tmp_path: Path, *options: str) -> str:
    """poppler's pdftotext over the PDF; required in CI, a skip elsewhere when poppler is missing."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext (poppler-utils) is required in CI")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    source = tmp_path / "sheet.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *options, str(source), "-"], capture_output=True, text=True, check=True
    ).stdout


def words_outside_the_page(pdf: bytes, tmp_path: Path) -> list[str]:
    """Words whose bounding box (poppler's pdftotext -bbox) leaves the printable area."""
    html = run_pdftotext(pdf, tmp_path, "-bbox")
    outside, seen = [], 0
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        width, height = float(page[1]), float(page[2])
        margin = 0.25 * 72 / 2.54  # 2.5 mm: nothing may come closer to the paper's edge
        for word in re.finditer(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', page[3]
        ):
            seen += 1
            x0, y0, x1, y1 = (float(v) for v in word.groups()[:4])
            if x0 < margin or y0 < margin or x1 > width - margin or y1 > height - margin:
                outside.append(word[5])
    assert seen > 50, "pdftotext found (almost) no words: the check would prove nothing"
    return outside


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_pdf_contains_every_code_and_the_username(paper: str) -> None:
    text = text_of(render_pdf(sheet(), paper))

    assert all(code in text for code in CODES)
    assert "jdoe" in text and "Acme SSO" in text


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_pdf_has_the_requested_paper_size_and_fits_one_page(paper: str) -> None:
    reader = PdfReader(io.BytesIO(render_pdf(sheet(), paper)))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(PAPER_POINTS[paper], abs=0.5)


def test_paper_name_is_case_insensitive() -> None:
    assert render_pdf(sheet(), "letter")[:5] == b"%PDF-"


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="A4 or Letter"):
        render_pdf(sheet(), "A3")


def test_codes_are_numbered() -> None:
    text = text_of(render_pdf(sheet()))

    assert all(f"{n}. {code}" in text for n, code in enumerate(CODES, start=1))


def test_pdf_carries_the_instructions_date_and_anti_phishing_line() -> None:
    text = " ".join(text_of(render_pdf(sheet())).split())

    assert "No one from Acme Corp will ever ask you for these codes." in text
    assert "Each code works only once." in text
    assert "Keep this sheet somewhere safe and offline" in text
    assert "create a new set" in text
    assert "25 November 2026, 20:04 UTC" in text


def test_spanish_sheet_is_in_spanish() -> None:
    text = " ".join(text_of(render_pdf(sheet(locale="es"))).split())

    assert "Códigos de respaldo" in text
    assert "Nadie de Acme Corp le pedirá jamás estos códigos." in text
    assert "25 de noviembre de 2026" in text


@pytest.mark.parametrize("name", ["José Müller", "Łukasz Żółć", "Ελένη Παπαδοπούλου", "Владимир"])
def test_unicode_names_render(name: str) -> None:
    text = text_of(render_pdf(sheet(username=name, realm_display_name=f"Realm of {name}")))

    assert name in text


def test_metadata_has_a_title_and_no_code_or_username() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(sheet())))
    metadata = " ".join(str(value) for value in (reader.metadata or {}).values())

    assert reader.metadata.title == "Backup codes — Acme SSO"
    assert not any(code in metadata for code in CODES)
    assert "jdoe" not in metadata


def test_pdf_embeds_no_script_attachment_or_form() -> None:
    pdf = render_pdf(sheet())
    reader = PdfReader(io.BytesIO(pdf))

    assert reader.attachments == {}
    assert not any(
        key in pdf for key in (b"/JavaScript", b"/JS", b"/AcroForm", b"/Launch", b"/URI", b"/EmbeddedFile")
    )


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_long_names_wrap_inside_the_page(paper: str, tmp_path: Path) -> None:
    long_sheet = sheet(
        username="maximiliana.alexandra.von-und-zu-hohenzollern-sigmaringen@corp.example.com" * 3,
        realm_display_name="Ministerio de Administraciones Públicas — Servicio Central de Autenticación " * 2,
        organisation="Organisation Internationale de Très Longue Dénomination Société Anonyme" * 2,
    )

    pdf = render_pdf(long_sheet, paper)

    assert words_outside_the_page(pdf, tmp_path) == []
    assert all(code in text_of(pdf) for code in CODES)


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_fifty_codes_stay_inside_the_page(paper: str, tmp_path: Path) -> None:
    codes = [f"{n:02d}XY-ZABC-DEFG-HJ{n:02d}" for n in range(1, 51)]

    pdf = render_pdf(sheet(codes=codes), paper)

    text = text_of(pdf)
    assert all(f"{n}. {code}" in text for n, code in enumerate(codes, start=1))
    assert len(PdfReader(io.BytesIO(pdf)).pages) <= 2
    assert words_outside_the_page(pdf, tmp_path) == []


def test_long_codes_get_one_column_and_stay_inside_the_page(tmp_path: Path) -> None:
    codes = ["-".join(["ABCD"] * 10) + f"-{n:04d}" for n in range(12)]

    pdf = render_pdf(sheet(codes=codes))

    assert all(code in text_of(pdf) for code in codes)
    assert words_outside_the_page(pdf, tmp_path) == []


def test_a_sheet_without_codes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one code"):
        render_pdf(sheet(codes=[]))


def test_a_sheet_without_username_is_refused() -> None:
    with pytest.raises(ValueError, match="username"):
        render_pdf(sheet(username="  "))


def test_naive_creation_time_is_taken_as_utc() -> None:
    text = text_of(render_pdf(sheet(created_at=datetime(2026, 1, 5, 8, 0))))

    assert "5 January 2026, 08:00 UTC" in text


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The text poppler reads from the PDF, in the order it would show and copy it."""
    return run_pdftotext(pdf, tmp_path)


# The isolates (U+2066 to 2069) and U+061C have no DejaVu glyph: fpdf2 leaves them out of the PDF
# whatever the bridge does, so only the text sheet shows their effect (tests/unit/sheet/test_sheet_txt.py).
@pytest.mark.parametrize(
    "control", ["\u202e", "\u202b", "\u202d", "\u200f"], ids=["RLO", "RLE", "LRO", "RLM"]
)
def test_a_bidi_control_in_a_name_cannot_reorder_the_pdf(control: str, tmp_path: Path) -> None:
    pdf = render_pdf(
        sheet(
            username=f"alice{control}gnp.exe",
            realm_display_name=f"Acme{control} SSO",
            organisation=f"Org{control}",
        )
    )

    for text in (text_of(pdf), pdftotext(pdf, tmp_path)):
        assert not set(BIDI) & set(text)
        assert "alicegnp.exe" in text and "Acme SSO" in text


# One name per script of the 41 login locales (and Hebrew); DejaVu draws some, Debian's Thai and CJK
# fonts the rest (bridge/sheet/faces.py).
NAMES_BY_SCRIPT = {
    "Latin": "Zoë Ångström",
    "Greek": "Γιώργος Παπαδόπουλος",
    "Cyrillic": "Иван Петров",
    "Armenian": "Արամ Խաչատրյան",
    "Georgian": "გიორგი ბერიძე",
    "Hebrew": "דוד לוי",
    "Arabic": "محمد الأحمد",
    "Thai": "สมชาย ใจดี",
    "Japanese": "山田太郎",
    "Chinese (Simplified)": "张伟",
    "Chinese (Traditional)": "張偉",
    "Korean": "김민준",
}
DIRECTION_MARKS = dict.fromkeys(map(ord, BIDI))  # pdftotext wraps right-to-left runs in U+202B…U+202C


def words(text: str) -> set[str]:
    """The words of ``text``, each as its sorted letters: presentation forms folded (NFKC), direction
    marks gone, and letter order ignored, as poppler reads the Arabic lam-alef ligature back as alef-lam."""
    plain = unicodedata.normalize("NFKC", text).translate(DIRECTION_MARKS)
    return {"".join(sorted(word)) for word in plain.split()}


@pytest.mark.parametrize("name", NAMES_BY_SCRIPT.values(), ids=NAMES_BY_SCRIPT.keys())
def test_a_name_in_any_script_is_on_the_sheet(name: str, tmp_path: Path) -> None:
    text = run_pdftotext(render_pdf(sheet(username=name, realm_display_name=name)), tmp_path)

    assert words(name) <= words(text)


def test_an_arabic_name_reads_right_to_left_in_joined_letters(tmp_path: Path) -> None:
    # Unshaped, the letters stood apart and in the wrong order: poppler read "ديعس دمحم" back.
    text = run_pdftotext(render_pdf(sheet(username="محمد سعيد")), tmp_path)

    assert "محمد سعيد" in unicodedata.normalize("NFKC", text).translate(DIRECTION_MARKS)


def test_cjk_names_use_the_face_of_the_sheet_language(tmp_path: Path) -> None:
    pdf = render_pdf(sheet(username="김민준", locale="ko"))

    assert "+NotoSansCJKKR" in pdf.decode("latin-1")
    assert "김민준" in run_pdftotext(pdf, tmp_path)


def test_a_latin_sheet_opens_no_fallback_font() -> None:
    pdf = render_pdf(sheet(username="Zoë Ångström"))

    assert "NotoSansCJK" not in pdf.decode("latin-1") and "Loma" not in pdf.decode("latin-1")


def test_a_missing_fallback_font_leaves_its_characters_out_and_the_rest_prints(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pdf = render_pdf(sheet(username="山田 jdoe สมชาย"), font_dirs=str(tmp_path / "no-fonts"))

    text = text_of(pdf)
    assert "jdoe" in text and "01AB-CDEF-GHJK-MN01" in text
    assert "NotoSansCJK-Regular.ttc not found" in caplog.text and "Loma.ttf not found" in caplog.text


def test_a_missing_fallback_font_is_warned_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        render_pdf(sheet(username="山田"), font_dirs=str(tmp_path / "none"))

    assert caplog.text.count("NotoSansCJK-Regular.ttc not found") == 1


def test_a_damaged_fallback_font_leaves_its_characters_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "NotoSansCJK-Regular.ttc").write_bytes(b"ttcf" + bytes(64))

    text = text_of(render_pdf(sheet(username="山田 jdoe"), font_dirs=str(tmp_path)))

    assert "jdoe" in text and "could not be used" in caplog.text


def test_a_damaged_fallback_font_is_warned_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "NotoSansCJK-Regular.ttc").write_bytes(b"ttcf" + bytes(32))
    for _ in range(3):
        render_pdf(sheet(username="山田"), font_dirs=str(tmp_path))

    assert caplog.text.count("could not be used") == 1


def test_a_sheet_for_a_cjk_and_arabic_name_stays_small() -> None:
    pdf = render_pdf(sheet(username="山田太郎 محمد الأحمد สมชาย", organisation="株式会社アクメ"))

    assert len(pdf) < 200_000
