"""The login pages speak every language Keycloak's own login theme speaks, no more, no fewer.

Key-by-key checks of each messages file (same keys and placeholders as English) are in
plugin/src/test/java/.../ThemeMessagesTest.java, run by ``mvn -q -f plugin/pom.xml package``.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest

from bridge.domain.locales import KEYCLOAK_LOGIN_LOCALES
from scripts import keycloak_dist

MESSAGES = Path(__file__).resolve().parents[3] / "keycloak-theme" / "login" / "messages"
BUNDLE = re.compile(r"^theme/base/login/messages/messages_([A-Za-z_]+)\.properties$")


def _shipped_locales(distribution: Path) -> set[str]:
    """Locales of the base login theme's message bundles inside the distribution's themes jar."""
    with zipfile.ZipFile(distribution) as dist:
        jar_name = next(
            n for n in dist.namelist() if re.search(r"/org\.keycloak\.keycloak-themes-[^/]*\.jar$", n)
        )
        with zipfile.ZipFile(io.BytesIO(dist.read(jar_name))) as jar:
            return {m.group(1) for m in map(BUNDLE.match, jar.namelist()) if m}


def test_there_is_a_messages_file_for_every_keycloak_locale_and_no_other() -> None:
    files = {
        p.name.removeprefix("messages_").removesuffix(".properties")
        for p in MESSAGES.glob("messages_*.properties")
    }

    assert files == set(KEYCLOAK_LOGIN_LOCALES)


def test_the_locale_list_is_the_one_keycloak_ships() -> None:
    try:
        distribution = keycloak_dist.distribution_zip()
    except keycloak_dist.KeycloakError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Keycloak distribution needed in CI: {exc}")
        pytest.skip(str(exc))

    assert set(KEYCLOAK_LOGIN_LOCALES) == _shipped_locales(distribution)
    assert len(KEYCLOAK_LOGIN_LOCALES) == len(set(KEYCLOAK_LOGIN_LOCALES)) == 41
