"""Fallback fonts for the PDF sheet: the scripts the shipped DejaVu fonts lack, found on the host.

DejaVu (``bridge/sheet/fonts``) draws Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic. Thai and
CJK (Japanese, Chinese, Korean) come from Debian font packages at run time rather than from the
repository: a CJK font is about 20 MB. They are looked up by file name under the directories of
``BACKUP_CODES_FONT_DIRS``; a missing one is logged once and its characters are left out of the sheet,
as before (never an error).

Memory: fpdf2 parsing the whole Noto CJK collection costs a worker about 55 MB and half a second per
sheet, even for a Latin name. So a fallback font is only opened when a name needs it, and then
HarfBuzz first cuts it down to the characters the sheet prints (a few KB), which fpdf2 embeds.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.settings import DEFAULT_FONT_DIRS

if TYPE_CHECKING:  # HarfBuzz and fpdf2 load on the first sheet, not when a worker starts
    from fpdf import FPDF

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).parent / "fonts"
# The shipped faces the sheet is set in; what both text faces draw needs no fallback.
SANS = FONT_DIR / "DejaVuSans.ttf"
SANS_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
MONO = FONT_DIR / "DejaVuSansMono.ttf"


@dataclass(frozen=True)
class Fallback:
    family: str
    file_names: tuple[str, ...]  # the first found is used
    package: str  # the Debian package that installs it, named in the warning


# Tried in this order for each character DejaVu lacks.
FALLBACKS = (
    Fallback("Thai", ("Loma.ttf", "Loma.otf"), "fonts-tlwg-loma-ttf"),
    Fallback("CJK", ("NotoSansCJK-Regular.ttc",), "fonts-noto-cjk"),
)

# Faces of the Noto Sans CJK collection: the same characters, drawn as each region writes them.
_CJK_FACES = {"ja": 0, "ko": 1, "zh": 2, "zh-hans": 2, "zh-cn": 2, "zh-sg": 2}
_CJK_FACES |= {"zh-hant": 3, "zh-tw": 3, "zh-hk": 4, "zh-mo": 4}


def _face(fallback: Fallback, locale: str) -> int:
    """The collection face for the sheet's language (Japanese glyph forms when it is not CJK)."""
    if fallback.family != "CJK":
        return 0
    tag = locale.replace("_", "-").lower()
    return _CJK_FACES.get(tag, _CJK_FACES.get(tag.split("-")[0], 0))


@lru_cache(maxsize=8)
def locate(font_dirs: str = DEFAULT_FONT_DIRS) -> dict[str, Path]:
    """Family → font file found under ``font_dirs`` (colon-separated); each missing one warned once."""
    roots = [Path(part) for part in font_dirs.split(":") if part.strip()]
    found: dict[str, Path] = {}
    for fallback in FALLBACKS:
        hits = (hit for name in fallback.file_names for root in roots for hit in _files_named(root, name))
        path = next(hits, None)
        if path is None:
            log.warning(
                "sheet font %s not found under %s: %s names will be missing from PDF sheets "
                "(install the Debian package %s or set BACKUP_CODES_FONT_DIRS)",
                fallback.file_names[0], font_dirs, fallback.family, fallback.package,
            )  # fmt: skip
        else:
            found[fallback.family] = path
    return found


def _files_named(root: Path, name: str) -> Iterable[Path]:
    try:
        return sorted(root.rglob(name)) if root.is_dir() else []
    except OSError:
        return []


@lru_cache(maxsize=1)
def _shipped_coverage() -> frozenset[int]:
    """Characters both shipped text faces (regular and bold) can draw."""
    import uharfbuzz as hb

    maps = [_unicodes(hb.Face(hb.Blob.from_file_path(str(face)))) for face in (SANS, SANS_BOLD)]
    return frozenset(maps[0] & maps[1])


def add_fallbacks(pdf: FPDF, text: str, locale: str, font_dirs: str, workdir: Path) -> list[str]:
    """Give ``pdf`` the fallback fonts ``text`` needs, each cut down to its characters in ``workdir``.

    Returns the families added (already registered with ``set_fallback_fonts``).
    """
    missing = (
        _with_parts({ord(ch) for ch in text if ch.isprintable() and not ch.isspace()}) - _shipped_coverage()
    )
    families: list[str] = []
    located = locate(font_dirs) if missing else {}
    for fallback in FALLBACKS:
        path = located.get(fallback.family)
        if not missing or path is None:
            continue
        cut = _subset(path, _face(fallback, locale), missing, workdir / fallback.family)
        if cut is None:
            continue
        file, drawn = cut
        pdf.add_font(fallback.family, "", str(file))
        families.append(fallback.family)
        missing -= drawn
    if families:
        pdf.set_fallback_fonts(families, exact_match=False)  # names are bold: the regular face will do
    return families


def _with_parts(codepoints: set[int]) -> set[int]:
    """``codepoints`` and the characters they decompose to (Unicode's compatibility decomposition).

    Shaping draws some characters with the glyphs of their parts: Thai SARA AM (U+0E33) is NIKHAHIT
    (U+0E4D) and SARA AA (U+0E32). A subset cut to the text's own characters would lose those glyphs
    and print "สารอง" for "สำรอง".
    """
    parts = set(codepoints)
    for codepoint in codepoints:
        fields = unicodedata.decomposition(chr(codepoint)).split()
        parts |= {int(field, 16) for field in fields if not field.startswith("<")}
    return parts


def _subset(path: Path, face: int, wanted: set[int], stem: Path) -> tuple[Path, set[int]] | None:
    """``path``'s glyphs for ``wanted`` (and what shaping them needs) saved next to ``stem``.

    HarfBuzz's subsetter maps the file and reads only what it keeps: a few milliseconds and MB for the
    20 MB CJK collection, where fontTools needed 50 MB. None when the font draws none of ``wanted``
    or cannot be read (logged; the sheet prints without them).
    """
    import uharfbuzz as hb

    try:
        source = hb.Face(hb.Blob.from_file_path(str(path)), face)
        if source.glyph_count == 0:
            raise ValueError("HarfBuzz finds no glyphs in it (not a font, or a damaged one)")
        drawn = _unicodes(source) & wanted
        if not drawn:
            return None
        plan = hb.SubsetInput()
        for codepoint in sorted(drawn):
            plan.unicode_set.add(codepoint)
        cut = hb.subset(source, plan)
        if cut is None:
            raise ValueError("HarfBuzz could not subset it")
        data = cut.blob.data
        file = stem.with_suffix(".otf" if data[:4] == b"OTTO" else ".ttf")
        file.write_bytes(data)
    except Exception as exc:  # a damaged or unexpected font file must not cost the user the sheet
        _warn_unusable(path, face, f"{type(exc).__name__}: {exc}")
        return None
    return file, drawn


@lru_cache(maxsize=32)
def _warn_unusable(path: Path, face: int, reason: str) -> None:
    """Logged once per worker and font, not on every sheet."""
    log.warning("sheet font %s (face %d) could not be used: %s", path, face, reason)


def _unicodes(face: Any) -> set[int]:
    """The characters a HarfBuzz face has glyphs for."""
    return set(face.unicodes)
