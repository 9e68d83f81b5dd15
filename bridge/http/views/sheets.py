"""Printable code sheets, PDF or plain text (tag ``sheets``); stateless, nothing is stored.

``bridge.sheet`` (fpdf2, fonts) is imported on the first sheet only, so workers that never print one
never load it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response

from bridge.domain import codes
from bridge.http.context import bridge
from bridge.http.validation import body, parse_datetime

blueprint = Blueprint("sheets", __name__)


def _sheet_from_request() -> Any:
    from bridge import sheet

    data = body("SheetRequest")
    created_at = parse_datetime(data["created_at"]) if "created_at" in data else datetime.now(UTC)
    return sheet.CodeSheet(
        codes=[codes.format_code(code.replace("-", "")) for code in data["codes"]],
        username=data["username"],
        realm_display_name=data["realm_display_name"],
        organisation=data.get("organisation") or bridge().settings.organisation_name,
        created_at=created_at,
        locale=data.get("locale") or bridge().settings.default_locale,  # raw: it picks the CJK face too
    ), data.get("paper", "A4")


@blueprint.post("/sheets/pdf")
def sheet_pdf() -> Response:
    from bridge import sheet

    code_sheet, paper = _sheet_from_request()
    pdf = sheet.render_pdf(code_sheet, paper=paper, font_dirs=bridge().settings.font_dirs)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="backup-codes.pdf"'
    return response


@blueprint.post("/sheets/txt")
def sheet_txt() -> Response:
    from bridge import sheet

    code_sheet, _paper = _sheet_from_request()
    response = Response(sheet.render_txt(code_sheet), mimetype="text/plain")
    response.headers["Content-Disposition"] = 'attachment; filename="backup-codes.txt"'
    return response
