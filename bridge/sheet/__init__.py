"""The printable code sheet: ``render`` lays out the PDF and its plain-text twin in the user's language
(gettext catalogs, bridge/domain/locales.py), ``faces`` finds the fonts every script of a name needs,
``fonts`` holds the shipped DejaVu faces. Callers use the names re-exported here: ``sheet.render_pdf(...)``.

The names load on first use (PEP 562): the app imports ``bridge.sheet.faces`` at start to check the
fonts, and fpdf2 and HarfBuzz should still cost a worker nothing until it renders a sheet.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.sheet.render import (
        BIDI_CONTROLS,
        PAPERS,
        CodeSheet,
        format_date,
        render_pdf,
        render_txt,
        resolve_locale,
        without_bidi_controls,
    )

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


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("bridge.sheet.render"), name)
    raise AttributeError(f"module 'bridge.sheet' has no attribute {name!r}")
