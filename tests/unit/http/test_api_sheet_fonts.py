"""The PDF sheet served by the API prints names in any script, with the fonts the settings point at."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.unit.sheet.test_sheet_pdf import run_pdftotext

BODY = {"codes": ["7KQ4-M2XP-9DWR-3HZT"], "username": "山田太郎 สมชาย", "realm_display_name": "Demo"}


def test_a_japanese_and_thai_name_is_on_the_served_sheet(bridge_app: Any, tmp_path: Path) -> None:
    response = bridge_app.client.post("/v1/sheets/pdf", headers=bridge_app.headers, json=BODY)

    assert response.status_code == 200
    assert "山田太郎 สมชาย" in run_pdftotext(response.data, tmp_path)


class TestWithoutTheFonts:
    @pytest.fixture
    def bridge_settings(self, bridge_settings: Any, tmp_path: Path) -> Any:
        return replace(bridge_settings, font_dirs=str(tmp_path / "no-fonts-here"))

    def test_the_sheet_still_renders_with_the_rest_of_the_name(self, bridge_app: Any, tmp_path: Path) -> None:
        body = {**BODY, "username": "山田 alice"}
        response = bridge_app.client.post("/v1/sheets/pdf", headers=bridge_app.headers, json=body)

        assert response.status_code == 200
        text = run_pdftotext(response.data, tmp_path)
        assert "alice" in text and "山田" not in text
