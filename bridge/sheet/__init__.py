"""The printable code sheet: ``content`` says what the sheet says in the user's language (gettext
catalogs, bridge/i18n/catalogs.py: names, date, sentences), ``pdf`` lays it out as a PDF, ``text`` as its
plain-text twin, ``faces`` finds the fonts every script of a name needs, ``fonts`` holds the shipped
DejaVu faces. Callers use the names re-exported here: ``sheet.render_pdf(...)``.

The names load on first use (PEP 562): the app imports ``bridge.sheet.faces`` at start to check the
fonts, and fpdf2 and HarfBuzz should still cost a worker nothing until it renders a sheet (the text
sheet never loads them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.sheet.content import (
        BIDI_CONTROLS,
        CodeSheet,
        format_date,
        resolve_locale,
        without_bidi_controls,
    )
    from bridge.sheet.pdf import PAPERS, render_pdf
    from bridge.sheet.text import render_txt

__all__ = [
    "BIDI_CONTROLS",
    "PAPERS",
    "CodeSheet",
    "format_date",
    "render_pdf",
    "render_txt",
    "resolve_locale",
    "without_bidi_controls",
]


# Where each re-exported name lives; only ``pdf`` loads fpdf2.
_HOME = {
    "BIDI_CONTROLS": "bridge.sheet.content",
    "CodeSheet": "bridge.sheet.content",
    "format_date": "bridge.sheet.content",
    "resolve_locale": "bridge.sheet.content",
    "without_bidi_controls": "bridge.sheet.content",
    "PAPERS": "bridge.sheet.pdf",
    "render_pdf": "bridge.sheet.pdf",
    "render_txt": "bridge.sheet.text",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'bridge.sheet' has no attribute {name!r}")
