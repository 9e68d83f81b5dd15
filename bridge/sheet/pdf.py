"""The printable code sheet (PDF) for a freshly issued set of codes: page layout and fonts.

Stateless: the codes come in, bytes go out, nothing is stored or logged. The PDF embeds subsets of the
DejaVu fonts shipped in ``bridge/sheet/fonts`` (Bitstream Vera licence, see its LICENSE), and for Thai and
CJK names subsets of Debian's fonts found at run time (bridge/sheet/faces.py); text is shaped by
HarfBuzz, so Arabic letters join and right-to-left names read right to left.
Layout follows what users of Google's and GitHub's sheets
expect (peers.md): numbered codes, a box to tick off each one, short instructions, and a warning
that nobody legitimate ever asks for the codes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bridge.domain import locales
from bridge.sheet import faces
from bridge.sheet.content import (
    STEPS,
    CodeSheet,
    aware,
    check,
    format_date,
    printable,
    resolve_locale,
    sentences,
)

PAPERS = {"a4": "A4", "letter": "Letter"}

_INK = (31, 41, 51)
_MUTED = (96, 108, 122)
_RULE = (203, 210, 217)
_PANEL = (247, 248, 250)
_WARN_FILL = (255, 248, 225)
_WARN_EDGE = (230, 190, 90)

_MARGIN = 18.0
_CODE_PT_MAX = 14.0
_CODE_PT_MIN = 10.0
_ROW_MAX = 11.5
_ROW_MIN = 6.0
_RESERVED_BELOW_CODES = 88.0  # instructions + warning, kept on the first page when the codes allow it


class _SheetPDF(FPDF):
    def __init__(self, paper: str, footer_text: str, page_label: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format=paper)
        self._footer_text = footer_text
        self._page_label = page_label
        self.add_font("Sans", "", str(faces.SANS))
        self.add_font("Sans", "B", str(faces.SANS_BOLD))
        self.add_font("Mono", "", str(faces.MONO))
        self.set_text_shaping(True)  # joins Arabic letters, places Thai marks, orders right-to-left runs
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN + 6)
        self.alias_nb_pages("{nb}")

    def footer(self) -> None:
        self.set_y(-_MARGIN)
        self.set_draw_color(*_RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 2, self.w - self.r_margin, self.get_y() - 2)
        self.set_font("Sans", "", 7.5)
        self.set_text_color(*_MUTED)
        label = self._page_label % {"page": self.page_no(), "pages": "{nb}"}
        label_w = self.get_string_width(label.replace("{nb}", "99")) + 2
        text = _fit(self, self._footer_text, self.epw - label_w - 4)
        self.cell(self.epw - label_w, 4, text)
        self.cell(label_w, 4, label, align="R")


def render_pdf(sheet: CodeSheet, paper: str = "A4", font_dirs: str = faces.DEFAULT_FONT_DIRS) -> bytes:
    """A one-page (two for very large sets) printable sheet on A4 or US Letter.

    Characters DejaVu lacks (Thai, CJK) are drawn with fonts found under ``font_dirs``
    (bridge/sheet/faces.py), cut down to the sheet's characters in a throwaway directory.
    """
    check(sheet)
    sheet = printable(sheet)
    size = PAPERS.get(paper.lower()) if isinstance(paper, str) else None
    if size is None:
        raise ValueError(f"paper must be A4 or Letter, not {paper!r}")
    s = sentences(sheet)
    created = format_date(sheet.created_at, sheet.locale)
    footer = " · ".join((sheet.realm_display_name, sheet.username, created))
    pdf = _SheetPDF(size, footer, s["page"])
    title = f"{s['title']} — {sheet.realm_display_name}"
    pdf.set_title(title)
    pdf.set_subject(s["title"])
    pdf.set_creator("keycloak-backup-codes")
    pdf.set_producer("keycloak-backup-codes")
    pdf.set_lang(locales.html_lang(resolve_locale(sheet.locale)))
    pdf.set_creation_date(aware(sheet.created_at))
    text = " ".join((footer, sheet.organisation.upper(), title, *s.values()))
    with tempfile.TemporaryDirectory(prefix="backup-codes-sheet-") as workdir:
        faces.add_fallbacks(pdf, text, sheet.locale, font_dirs, Path(workdir))
        pdf.add_page()
        _header(pdf, sheet, s, created)
        _codes(pdf, sheet.codes, s)
        _instructions(pdf, s)
        _warning(pdf, s)
        return bytes(pdf.output())


def _header(pdf: FPDF, sheet: CodeSheet, s: dict[str, str], created: str) -> None:
    if sheet.organisation:
        pdf.set_font("Sans", "B", 8.5)
        pdf.set_text_color(*_MUTED)
        pdf.set_char_spacing(0.8)
        pdf.multi_cell(
            pdf.epw, 4.5, sheet.organisation.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L"
        )
        pdf.set_char_spacing(0)
        pdf.ln(1.5)
    pdf.set_font("Sans", "B", 22)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(pdf.epw, 10, s["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_font("Sans", "", 13)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(pdf.epw, 6.5, sheet.realm_display_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.ln(4)
    label_w = max(pdf.get_string_width(s["account"]), pdf.get_string_width(s["created"])) + 16
    for label, value in ((s["account"], sheet.username), (s["created"], created)):
        pdf.set_font("Sans", "", 9)
        pdf.set_text_color(*_MUTED)
        pdf.cell(label_w, 5.5, label)
        pdf.set_font("Sans", "B", 10)
        pdf.set_text_color(*_INK)
        pdf.multi_cell(pdf.epw - label_w, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.ln(5)


@dataclass(frozen=True)
class _Grid:
    """Geometry of the code panel, fixed once per sheet so every page looks the same."""

    columns: int
    col_w: float
    size: float  # code font size in pt, before the row height caps it
    pad: float = 6.0
    box: float = 4.2  # the tick box
    number_w: float = 9.0


def _codes(pdf: FPDF, codes: list[str], s: dict[str, str]) -> None:
    grid = _grid(pdf, codes)
    pdf.set_font("Sans", "", 9)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(pdf.epw, 5, s["caption"], new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.ln(2)
    first = 0
    while first < len(codes):
        space = pdf.h - pdf.b_margin - pdf.get_y() - 2 * grid.pad
        wanted = -(-(len(codes) - first) // grid.columns)
        row_h = min(_ROW_MAX, max(_ROW_MIN, (space - _RESERVED_BELOW_CODES) / wanted))
        if row_h * wanted > space:
            row_h = max(_ROW_MIN, space / wanted)
        rows = min(wanted, int(space // row_h))
        if rows < 1:
            pdf.add_page()
            continue
        chunk = codes[first : first + rows * grid.columns]
        _panel(pdf, grid, chunk, first + 1, row_h)
        first += len(chunk)
        if first < len(codes):
            pdf.add_page()


def _grid(pdf: FPDF, codes: list[str]) -> _Grid:
    inner = pdf.epw - 2 * _Grid.pad
    lead = _Grid.box + 3 + _Grid.number_w + 3  # tick box, gap, number, gap
    gutter = 8.0  # between the end of a code and the next column's tick box
    widest = max(codes, key=len)
    columns = 2 if _code_size(pdf, widest, inner / 2 - lead - gutter) >= _CODE_PT_MIN + 1 else 1
    col_w = inner / columns
    return _Grid(columns=columns, col_w=col_w, size=_code_size(pdf, widest, col_w - lead - gutter))


def _panel(pdf: FPDF, grid: _Grid, codes: list[str], first_number: int, row_h: float) -> None:
    rows = -(-len(codes) // grid.columns)
    size = min(grid.size, row_h * 2.0)  # a row height in mm of about half the point size keeps rows airy
    top = pdf.get_y()
    height = rows * row_h + 2 * grid.pad - 2
    pdf.set_fill_color(*_PANEL)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.3)
    pdf.rect(pdf.l_margin, top, pdf.epw, height, style="DF", round_corners=True, corner_radius=2.5)
    if grid.columns == 2:
        mid = pdf.l_margin + grid.pad + grid.col_w
        pdf.line(mid - 2, top + grid.pad - 1, mid - 2, top + height - grid.pad + 1)
    for index, code in enumerate(codes):
        column, row = divmod(index, rows)  # numbered down the first column, then the second
        x = pdf.l_margin + grid.pad + column * grid.col_w + (2 if column else 0)
        y = top + grid.pad - 1 + row * row_h
        _code_row(pdf, grid, x, y, row_h, first_number + index, code, size)
    pdf.set_y(top + height + 7)


def _code_row(
    pdf: FPDF, grid: _Grid, x: float, y: float, row_h: float, number: int, code: str, size: float
) -> None:
    box, number_w = grid.box, grid.number_w
    pdf.set_draw_color(*_MUTED)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_line_width(0.3)
    pdf.rect(x, y + (row_h - box) / 2, box, box, style="DF", round_corners=True, corner_radius=0.6)
    pdf.set_xy(x + box + 3, y)
    pdf.set_font("Sans", "", 9.5)
    pdf.set_text_color(*_MUTED)
    pdf.cell(number_w, row_h, f"{number}.", align="R")
    pdf.set_xy(x + box + 3 + number_w + 3, y)
    pdf.set_font("Mono", "", size)
    pdf.set_text_color(*_INK)
    pdf.cell(pdf.get_string_width(code) + 1, row_h, code)


def _code_size(pdf: FPDF, code: str, width: float) -> float:
    """The largest point size (capped) at which ``code`` fits ``width`` mm in the monospace font."""
    pdf.set_font("Mono", "", 10)
    at_ten = pdf.get_string_width(code)
    return min(_CODE_PT_MAX, 10 * width / at_ten) if at_ten else _CODE_PT_MAX


def _instructions(pdf: FPDF, s: dict[str, str]) -> None:
    _keep_together(pdf, 48)
    pdf.set_font("Sans", "B", 11.5)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(pdf.epw, 6, s["howto"], new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.ln(1.5)
    indent = 6.0
    for number, step in enumerate(STEPS, start=1):
        y = pdf.get_y()
        pdf.set_font("Sans", "B", 9.5)
        pdf.set_text_color(*_MUTED)
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(indent, 5, f"{number}.")
        pdf.set_font("Sans", "", 9.5)
        pdf.set_text_color(*_INK)
        pdf.set_xy(pdf.l_margin + indent, y)
        pdf.multi_cell(pdf.epw - indent, 5, s[step], new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.ln(1.2)
    pdf.ln(4)


def _warning(pdf: FPDF, s: dict[str, str]) -> None:
    pad = 5.0
    width = pdf.epw - 2 * pad - 4
    pdf.set_font("Sans", "B", 10.5)
    head_lines = len(pdf.multi_cell(width, 5.5, s["phishing"], dry_run=True, output="LINES", align="L"))
    pdf.set_font("Sans", "", 9.5)
    more_lines = len(pdf.multi_cell(width, 5, s["phishing_more"], dry_run=True, output="LINES", align="L"))
    height = head_lines * 5.5 + more_lines * 5 + 2 * pad + 1
    _keep_together(pdf, height)
    top = pdf.get_y()
    pdf.set_fill_color(*_WARN_FILL)
    pdf.set_draw_color(*_WARN_EDGE)
    pdf.set_line_width(0.4)
    pdf.rect(pdf.l_margin, top, pdf.epw, height, style="DF", round_corners=True, corner_radius=2.5)
    pdf.set_fill_color(*_WARN_EDGE)
    pdf.rect(pdf.l_margin, top, 2.2, height, style="F", round_corners=True, corner_radius=1)
    x = pdf.l_margin + pad + 4
    pdf.set_xy(x, top + pad)
    pdf.set_font("Sans", "B", 10.5)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(width, 5.5, s["phishing"], new_x=XPos.LEFT, new_y=YPos.NEXT, align="L")
    pdf.ln(1)
    pdf.set_x(x)
    pdf.set_font("Sans", "", 9.5)
    pdf.multi_cell(width, 5, s["phishing_more"], new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_y(top + height)


def _keep_together(pdf: FPDF, height: float) -> None:
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``width`` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"
