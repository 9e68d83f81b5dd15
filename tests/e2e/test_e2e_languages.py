"""Our pages speak every language of Keycloak's login theme, in the real browser.

One sign-in reaches the setup page, another the code prompt; each language is then one page load with
``kc_locale`` (Keycloak's own language switch), so all 41 stay cheap. A key missing from a language would
show as Keycloak's fallback: the key name itself, or the English text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from bridge.domain.locales import KEYCLOAK_LOGIN_LOCALES, RIGHT_TO_LEFT_LOCALES, language_tag
from tests.e2e import pages
from tests.e2e.conftest import APP_ORIGIN, REDIRECT_URI, Stack, build_stack

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]

MESSAGES = Path(__file__).resolve().parents[2] / "keycloak-theme" / "login" / "messages"
SCREENSHOT_LOCALES = ("ar", "ja", "de")
# Text a user can see or hear: the page's text and the attributes our templates fill from messages.
DIRECTION_JS = "selector => [...document.querySelectorAll(selector)].map(e => getComputedStyle(e).direction)"
VISIBLE_TEXT_JS = """() => [document.body.innerText,
    ...[...document.querySelectorAll('[aria-label],[data-copied],[data-copy-failed],[data-download-failed]')]
        .flatMap(e => ['aria-label', 'data-copied', 'data-copy-failed', 'data-download-failed']
        .map(a => e.getAttribute(a) || ''))].join('\\n')"""


def messages(locale: str) -> dict[str, str]:
    """A messages file as Keycloak shows it (our files have no continuations, and no '' to unescape)."""
    lines = (MESSAGES / f"messages_{locale}.properties").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


@contextlib.contextmanager
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile, signed out, whose sign-ins land on a stub of the application."""
    page = pages.fresh_page(chromium, APP_ORIGIN)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def setup_page(chromium: Any, multilingual: Stack) -> Iterator[tuple[Any, str]]:
    """A browser on the setup page of a new user, and that page's URL (to load again in another language)."""
    user = multilingual.new_user("lang")
    with browser_page(chromium) as page:
        pages.sign_in_with_password(page, multilingual.login_url, user.username, user.password)
        pages.codes_on_setup_page(page)
        yield page, page.url


@pytest.fixture(scope="module")
def code_page(chromium: Any, multilingual: Stack) -> Iterator[tuple[Any, str]]:
    """A browser on the backup-code prompt of a user who set up codes earlier, and that page's URL."""
    user = multilingual.new_user("langcode")
    with browser_page(chromium) as page:
        pages.sign_in_with_password(page, multilingual.login_url, user.username, user.password)
        pages.codes_on_setup_page(page)
        pages.confirm_codes_saved(page)
        pages.expect_signed_in(page, REDIRECT_URI)
    with browser_page(chromium) as page:
        pages.sign_in_with_password(page, multilingual.login_url, user.username, user.password)
        assert pages.on_code_page(page), f"expected the backup-code page, got {page.url}"
        yield page, page.url


def load_in(at: tuple[Any, str], locale: str) -> Any:
    """The same page again, in another language."""
    page, url = at
    page.goto(f"{url}&{urlencode({'kc_locale': language_tag(locale)})}")
    return page


def open_in(setup_page: tuple[Any, str], locale: str) -> Any:
    page = load_in(setup_page, locale)
    pages.codes_on_setup_page(page)
    return page


@pytest.mark.parametrize("locale", KEYCLOAK_LOGIN_LOCALES)
def test_setup_page_is_in_the_language_and_shows_no_message_key(
    setup_page: tuple[Any, str], locale: str
) -> None:
    page = open_in(setup_page, locale)
    expected = messages(locale)
    text = page.evaluate(VISIBLE_TEXT_JS)

    assert page.locator("#kc-page-title").inner_text().strip() == expected["backupCodeSetupTitle"]
    assert page.locator("#backup-code-continue").inner_text().strip() == expected["backupCodeContinue"]
    assert [key for key in messages("en") if key in text] == []


@pytest.mark.parametrize("locale", KEYCLOAK_LOGIN_LOCALES)
def test_code_page_is_in_the_language_and_shows_no_message_key(
    code_page: tuple[Any, str], locale: str
) -> None:
    page = load_in(code_page, locale)
    expected = messages(locale)
    text = page.evaluate(VISIBLE_TEXT_JS)

    assert page.locator("#kc-page-title").inner_text().strip() == expected["backupCodeLoginTitle"]
    assert page.locator("#backupCode-hint").inner_text().strip() == expected["backupCodeHint"]
    assert [key for key in messages("en") if key in text] == []


@pytest.mark.parametrize("locale", KEYCLOAK_LOGIN_LOCALES)
def test_code_list_is_indented_on_the_side_reading_starts(setup_page: tuple[Any, str], locale: str) -> None:
    page = open_in(setup_page, locale)

    left, right = page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('#backup-code-list'));"
        " return [parseFloat(s.paddingLeft), parseFloat(s.paddingRight)]; }"
    )
    start, end = (right, left) if locale in RIGHT_TO_LEFT_LOCALES else (left, right)
    assert start > end


@pytest.mark.parametrize("locale", sorted(RIGHT_TO_LEFT_LOCALES))
def test_codes_read_left_to_right_in_a_right_to_left_page(setup_page: tuple[Any, str], locale: str) -> None:
    page = open_in(setup_page, locale)

    directions = page.evaluate(DIRECTION_JS, "#backup-code-list .bc-code")
    assert page.evaluate("() => document.documentElement.dir") == "rtl"
    assert directions and set(directions) == {"ltr"}


@pytest.mark.parametrize("locale", sorted(RIGHT_TO_LEFT_LOCALES))
def test_code_input_reads_left_to_right_in_a_right_to_left_page(
    code_page: tuple[Any, str], locale: str
) -> None:
    page = load_in(code_page, locale)

    assert page.evaluate("() => document.documentElement.dir") == "rtl"
    assert page.evaluate(DIRECTION_JS, "#backupCode") == ["ltr"]


@pytest.mark.parametrize("locale", SCREENSHOT_LOCALES)
def test_setup_page_screenshot_for_people(setup_page: tuple[Any, str], locale: str) -> None:
    page = open_in(setup_page, locale)

    pages.screenshot(page, f"setup-{locale}")

    assert (pages.SCREENSHOTS / f"setup-{locale}-desktop.png").is_file()


# ------------------------------------------------------------ the low-codes, unavailable and devices pages


def enrolled(multilingual: Stack, chromium: Any, prefix: str) -> tuple[Any, list[str]]:
    """A user of a multilingual realm with a saved set of codes, and those codes."""
    user = multilingual.new_user(prefix)
    with browser_page(chromium) as page:
        pages.sign_in_with_password(page, multilingual.login_url, user.username, user.password)
        codes = pages.codes_on_setup_page(page)
        pages.confirm_codes_saved(page)
        pages.expect_signed_in(page, REDIRECT_URI)
    return user, codes


@pytest.fixture(scope="module")
def always_low(keycloak: Any, e2e_bridge: Any) -> Stack:
    """A multilingual realm whose low-codes threshold is the whole set: every code used shows the notice.

    (The notice cannot be reloaded in another language: a reload after the spent code finishes the sign-in.)
    """
    tags = [language_tag(locale) for locale in KEYCLOAK_LOGIN_LOCALES]
    stack = build_stack(keycloak, e2e_bridge, "i18nlow", supportedLocales=tags, defaultLocale="en")
    # The threshold is the bridge's policy (the one the notice and the mails follow).
    response = requests.put(
        f"{e2e_bridge.url}/v1/realms/{stack.realm}/policy",
        json={"low_threshold": 9},  # a set of 10: one code used and it is low
        headers=e2e_bridge.headers,
        timeout=10,
    )
    response.raise_for_status()
    return stack


@pytest.fixture(scope="module")
def low_user(chromium: Any, always_low: Stack) -> tuple[Any, list[str]]:
    """A user of that realm and their unused codes (the tests use them up and renew the set)."""
    return enrolled(always_low, chromium, "langlow")


def renew_codes(page: Any) -> list[str]:
    page.click("#backup-code-regenerate")
    page.wait_for_load_state()
    pages.accept_regeneration_if_asked(page)
    codes = pages.codes_on_setup_page(page)
    pages.confirm_codes_saved(page)
    return codes


@pytest.fixture(scope="module")
def code_step(chromium: Any, multilingual: Stack) -> Iterator[tuple[Any, str]]:
    """A browser at the code step of a user who has codes (while the bridge runs)."""
    user, _codes = enrolled(multilingual, chromium, "langdown")
    with browser_page(chromium) as page:
        pages.sign_in_with_password(page, multilingual.login_url, user.username, user.password)
        assert pages.on_code_page(page), f"expected the backup-code page, got {page.url}"
        yield page, page.url


@pytest.fixture(scope="module")
def devices_page(chromium: Any, multilingual: Stack) -> Iterator[tuple[Any, str]]:
    """A browser on the remembered-devices page (an application-initiated action of a signed-in user)."""
    user, codes = enrolled(multilingual, chromium, "langdev")
    with browser_page(chromium) as page:
        pages.sign_in_with_password(page, multilingual.login_url, user.username, user.password)
        pages.enter_code(page, codes[0])
        pages.expect_signed_in(page, REDIRECT_URI)
        page.goto(multilingual.login_url_with(kc_action="backup-code-devices"))
        page.wait_for_load_state()
        assert pages.on_devices_page(page), f"expected the devices page, got {page.url}"
        yield page, page.url


def shows_no_message_key(page: Any) -> list[str]:
    text = page.evaluate(VISIBLE_TEXT_JS)
    return [key for key in messages("en") if key in text]


@pytest.mark.parametrize("locale", KEYCLOAK_LOGIN_LOCALES)
def test_low_codes_page_is_in_the_language_and_shows_no_message_key(
    chromium: Any, always_low: Stack, low_user: tuple[Any, list[str]], locale: str
) -> None:
    user, codes = low_user
    with browser_page(chromium) as page:
        pages.sign_in_with_password(page, always_low.login_url, user.username, user.password)
        load_in((page, page.url), locale)
        pages.enter_code(page, codes.pop(0))

        assert pages.on_low_page(page), f"expected the few-codes-left notice, got {page.url}"
        assert page.locator("#kc-page-title").inner_text().strip() == messages(locale)["backupCodeLowTitle"]
        assert shows_no_message_key(page) == []
        if len(codes) == 1:  # the last code would leave none: no notice then, so renew the set now
            codes[:] = renew_codes(page)


def test_unavailable_page_is_in_every_language_and_shows_no_message_key(
    code_step: tuple[Any, str], multilingual: Stack
) -> None:
    """One test for all 41: the bridge is stopped once (and always started again), not 41 times."""
    wrong: dict[str, str] = {}
    multilingual.bridge.stop()
    try:
        for locale in KEYCLOAK_LOGIN_LOCALES:
            page = load_in(code_step, locale)
            shown = pages.on_unavailable_page(page)
            title = page.locator("#kc-page-title").inner_text().strip() if shown else ""
            if title != messages(locale)["backupCodeUnavailableTitle"] or shows_no_message_key(page):
                wrong[locale] = title or page.url
    finally:
        multilingual.bridge.start()

    assert wrong == {}


@pytest.mark.parametrize("locale", KEYCLOAK_LOGIN_LOCALES)
def test_devices_page_is_in_the_language_and_shows_no_message_key(
    devices_page: tuple[Any, str], locale: str
) -> None:
    page = load_in(devices_page, locale)

    assert pages.on_devices_page(page)
    assert page.locator("#kc-page-title").inner_text().strip() == messages(locale)["backupCodeDevicesTitle"]
    assert shows_no_message_key(page) == []
