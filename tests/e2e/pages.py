"""What a user does on the login pages, one function per step, so the scenarios read like the user's story.

Element ids are the ones in keycloak-theme/login/*.ftl (ours) and Keycloak's keycloak.v2 login theme.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from bridge import contract

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
FIGURES = SCREENSHOTS.parent / "figures"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The desktop screenshots the README shows; UPDATE_SCREENSHOTS=1 copies them into docs/screenshots.
README_SCREENSHOTS = frozenset({"admin-backup-codes-tab", "setup", "login-code", "low-codes", "unavailable"})
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
CODE_PATTERN = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}\b")


def fresh_page(chromium: Any, app_origin: str, viewport: dict[str, int] = DESKTOP) -> Page:
    """A page in a fresh browser profile (no cookies: signed out) whose sign-ins land on a stub of the
    application at ``app_origin``; close it with ``page.context.close()``."""
    context = chromium.new_context(viewport=viewport, accept_downloads=True, locale="en-GB")
    context.route(
        app_origin + "/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>signed in</h1>"),
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def screenshot(page: Page, name: str) -> None:
    """The current page at desktop and phone width (full page), for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or DESKTOP
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_function(f"document.documentElement.clientWidth === {size['width']}")
        page.mouse.move(0, 0)  # no hover effects (tooltips) in the picture
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(original)
    publish(name)


def publish(name: str) -> None:
    """With UPDATE_SCREENSHOTS=1, the README's desktop screenshot ``name`` goes to docs/screenshots too."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1" or name not in README_SCREENSHOTS:
        return
    to_docs(SCREENSHOTS / f"{name}-desktop.png", f"{name}-desktop.png")


def to_docs(source: Path, name: str) -> None:
    """A copy in docs/screenshots in 256 colours (about half the bytes; the README's pictures stay small)."""
    from PIL import Image  # Pillow comes with fpdf2, which makes the bridge's PDF sheet

    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        rgb = image.convert("RGB")
        small = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(DOCS_SCREENSHOTS / name, "PNG", optimize=True)


def sheet_picture(pdf: Path) -> None:
    """The sheet's first page as a PNG next to the screenshots (and in docs/ with UPDATE_SCREENSHOTS=1), for
    people to look at; needs pdftoppm (poppler-utils), skipped quietly without it."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / "sheet-pdf"
    subprocess.run(
        [pdftoppm, "-png", "-r", "90", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(target)],
        check=True,
        timeout=60,
    )
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        to_docs(target.with_suffix(".png"), "sheet-pdf.png")


def record_figure(name: str, text: str) -> None:
    """A measured figure for people (not an assertion): printed, and kept in test-artifacts/figures."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    print(f"\nfigure {name}: {text}")


def sign_in_with_password(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")
    page.wait_for_load_state()


def log_out(page: Page, logout_url: str) -> None:
    """Keycloak's end-session endpoint asks for confirmation, then ends the SSO session."""
    page.goto(logout_url)
    page.click("#kc-logout")
    page.wait_for_load_state()


def is_signed_in(page: Page, redirect_prefix: str) -> bool:
    return page.url.startswith(redirect_prefix)


def expect_signed_in(page: Page, redirect_prefix: str) -> None:
    expect(page).to_have_url(re.compile("^" + re.escape(redirect_prefix) + ".*code="))


def on_code_page(page: Page) -> bool:
    return page.locator("#kc-backup-code-login-form").count() == 1


def on_setup_page(page: Page) -> bool:
    return page.locator("#backup-code-list").count() == 1


def on_low_page(page: Page) -> bool:
    return page.locator("#kc-backup-code-low-form").count() == 1


def on_unavailable_page(page: Page) -> bool:
    return page.locator("#kc-backup-code-unavailable-form").count() == 1


def on_otp_page(page: Page) -> bool:
    return page.locator("input#otp").count() == 1


def codes_on_setup_page(page: Page) -> list[str]:
    expect(page.locator("#backup-code-list")).to_be_visible()
    return [text.strip() for text in page.locator("#backup-code-list .bc-code").all_inner_texts()]


def confirm_codes_saved(page: Page) -> None:
    page.check("#backupCodeConfirm")
    page.click("#backup-code-continue")
    page.wait_for_load_state()


def accept_regeneration_if_asked(page: Page) -> None:
    """A user who still has codes first confirms that the old set will stop working."""
    if page.locator("#backup-code-generate").count():
        page.click("#backup-code-generate")
        page.wait_for_load_state()


def finish_setup_if_asked(page: Page) -> list[str]:
    """A used recovery code is replaced by a fresh set: the setup page follows a recovery."""
    if not on_setup_page(page) and page.locator("#backup-code-generate").count() == 0:
        return []
    accept_regeneration_if_asked(page)
    codes = codes_on_setup_page(page)
    confirm_codes_saved(page)
    return codes


def enter_code(page: Page, code: str) -> None:
    page.fill("#backupCode", code)
    page.click("#kc-login")
    page.wait_for_load_state()


def on_otp_setup_page(page: Page) -> bool:
    return page.locator("#kc-totp-settings-form").count() == 1


def otp_setup_key(page: Page) -> bytes:
    """The key Keycloak's OTP setup page is about to store (its TOTP key is the secret's UTF-8 bytes)."""
    return page.input_value("#totpSecret").encode()


def finish_otp_setup(page: Page, otp: str) -> None:
    page.fill("#totp", otp)
    page.click("#saveTOTPBtn")
    page.wait_for_load_state()


def enter_otp(page: Page, otp: str) -> None:
    page.fill("input#otp", otp)
    page.click("#kc-login")
    page.wait_for_load_state()


def code_error(page: Page) -> str:
    locator = page.locator("#input-error-backupCode")
    return locator.inner_text().strip() if locator.count() else ""


def open_other_ways(page: Page) -> None:
    """Keycloak's 'Try another way': the list of the user's other sign-in methods."""
    page.click("#try-another-way")
    page.wait_for_load_state()


def choose_backup_code(page: Page) -> None:
    page.locator(".select-auth-box-parent", has_text=re.compile("backup code", re.IGNORECASE)).first.click()
    page.wait_for_load_state()


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the screen (a phone user would have to scroll sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


# ------------------------------------------------------------------------------------------- recovery

DEVICE_COOKIE = contract.DEVICE_COOKIE


def on_login_form(page: Page) -> bool:
    return page.locator("#kc-form-login").count() == 1


def login_message(page: Page) -> str:
    """Keycloak's message on the login form: a field error under the username, or the page's alert."""
    for selector in ("#input-error-username", "#input-error-password", ".kc-feedback-text"):
        locator = page.locator(selector)
        if locator.count():
            return locator.first.inner_text().strip()
    return ""


def on_locked_recovery_page(page: Page) -> bool:
    """The backup-code page shown to lift a temporary lock (it explains why a code is asked)."""
    return on_code_page(page) and page.locator("#backup-code-locked-recovery").count() == 1


def ask_for_password_reset(page: Page, login_url: str, username: str) -> None:
    """'Forgot password?' on the login form, then the username: Keycloak mails a link."""
    page.goto(login_url)
    page.click("a[href*='login-actions/reset-credentials']")
    page.wait_for_load_state()
    page.fill("#username", username)
    page.click("#kc-form-buttons")
    page.wait_for_load_state()


def on_update_password_page(page: Page) -> bool:
    return page.locator("#kc-passwd-update-form").count() == 1


def set_new_password(page: Page, password: str) -> None:
    page.fill("#password-new", password)
    page.fill("#password-confirm", password)
    page.click("#kc-submit")
    page.wait_for_load_state()


def on_update_email_page(page: Page) -> bool:
    return page.locator("#kc-update-email-form").count() == 1


def set_new_email(page: Page, email: str) -> None:
    page.fill("#email", email)
    page.click("#kc-submit")
    page.wait_for_load_state()


def device_cookie(page: Page) -> dict | None:
    """The remembered-device cookie in this browser profile, as Playwright reports it."""
    return next((c for c in page.context.cookies() if c["name"] == DEVICE_COOKIE), None)


def on_devices_page(page: Page) -> bool:
    return page.locator("#kc-backup-code-devices-form").count() == 1


def remembered_devices(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#backup-code-devices .bc-device-name").all_inner_texts()]


def forget_all_devices(page: Page) -> None:
    page.click("#backup-code-forget-all")
    page.wait_for_load_state()
