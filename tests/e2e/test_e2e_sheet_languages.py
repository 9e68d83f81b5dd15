"""The code sheet a non-Latin user downloads through the real stack carries their name and their language.

Keycloak resolves the user's locale (their ``locale`` attribute, a language of the realm) and the provider
sends it with the sheet request; the bridge sets the sheet in that language's catalog and draws the name
with the CJK face (checked with poppler's pdftotext, as a reader would copy it).
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from bridge.i18n import catalogs
from tests.e2e import pages
from tests.e2e.conftest import APP_ORIGIN, PASSWORD, Stack

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return unicodedata.normalize("NFKC", text)


def allow_usernames_in_any_script(stack: Stack) -> None:
    """Keycloak's user profile refuses non-Latin usernames by default (its IDN homograph and character
    validators); a realm whose people sign in as 山田太郎 drops them, as this one does."""
    admin = stack.admin()
    profile = admin.get_realm_users_profile()
    for attribute in profile["attributes"]:
        if attribute["name"] == "username":
            validations = attribute.get("validations") or {}
            validations.pop("up-username-not-idn-homograph", None)
            validations.pop("username-prohibited-characters", None)
    admin.update_realm_users_profile(profile)


def test_a_japanese_user_downloads_a_sheet_with_their_name_in_japanese(
    chromium: Any, multilingual: Stack
) -> None:
    username = "山田太郎"
    allow_usernames_in_any_script(multilingual)
    multilingual.keycloak.create_user(
        multilingual.realm,
        username,
        PASSWORD,
        email="yamada@example.test",
        firstName="太郎",
        lastName="山田",
        attributes={"locale": ["ja"]},
        requiredActions=["backup-code-setup"],
    )
    page = pages.fresh_page(chromium, APP_ORIGIN)
    try:
        pages.sign_in_with_password(page, multilingual.login_url, username, PASSWORD)
        codes = pages.codes_on_setup_page(page)
        with page.expect_download() as download:
            page.click("#backup-code-download-pdf")
        text = pdftotext(download.value.path())
    finally:
        page.context.close()

    assert username in text
    assert catalogs.translations(catalogs.negotiate("ja")).gettext("Backup codes") in text
    assert all(code in text.replace(" ", "") for code in codes)
