"""Fallback fonts for the PDF sheet: the scripts the shipped DejaVu fonts lack, found on the host.

DejaVu (``bridge/fonts``) draws Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic. Thai and
CJK (Japanese, Chinese, Korean) come from Debian font packages at run time rather than from the
repository: a CJK font is about 20 MB. They are looked up by file name under the directories of
``BACKUP_CODES_FONT_DIRS``; a missing one is logged once and its characters are left out of the sheet,
as before (never an error).

Memory: fpdf2 parsing the whole Noto CJK collection costs a worker about 55 MB and half a second per
sheet, even for a Latin name. So a fallback font is only opened when a name needs it, and then
fontTools first cuts it down to the characters the sheet prints (a few KB), which fpdf2 embeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fontTools and fpdf2 load on the first sheet, not when a worker starts
    from fpdf import FPDF

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).parent / "fonts"
DEFAULT_FONT_DIRS = "/usr/share/fonts:/usr/local/share/fonts"


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
    from fontTools.ttLib import TTFont

    faces = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
    maps = [set(TTFont(FONT_DIR / face, lazy=True).getBestCmap()) for face in faces]
    return frozenset(maps[0] & maps[1])


def add_fallbacks(pdf: FPDF, text: str, locale: str, font_dirs: str, workdir: Path) -> list[str]:
    """Give ``pdf`` the fallback fonts ``text`` needs, each cut down to its characters in ``workdir``.

    Returns the families added (already registered with ``set_fallback_fonts``).
    """
    missing = {ord(ch) for ch in text if ch.isprintable() and not ch.isspace()} - _shipped_coverage()
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


def _subset(path: Path, face: int, wanted: set[int], stem: Path) -> tuple[Path, set[int]] | None:
    """``path``'s glyphs for ``wanted`` (and what shaping them needs) saved next to ``stem``.

    None when the font draws none of them or cannot be read (logged; the sheet prints without them).
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(path, fontNumber=face, lazy=True, recalcTimestamp=False)
        drawn = wanted & set(font.getBestCmap())
        if not drawn:
            return None
        options = subset.Options(layout_features=["*"], notdef_outline=True, name_IDs=["*"])
        options.drop_tables += ["FFTM"]  # FontForge's timestamps, which fontTools cannot subset
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(drawn))
        subsetter.subset(font)
        file = stem.with_suffix(".otf" if "CFF " in font else ".ttf")
        font.save(file)
    except Exception:  # a damaged or unexpected font file must not cost the user the sheet
        log.warning("sheet font %s could not be used", path, exc_info=True)
        return None
    return file, drawn
