"""Fixtures and helpers for browser tests: Debian's chromium driven by Playwright's sync API
against pytest-django's live server, and an axe-core check for every page a test visits.

The browser is started once per session; each test gets a fresh context (cookies, storage),
so tests never share a session. No browser is ever downloaded: Playwright launches
/usr/bin/chromium, and the only network traffic is to the live server on 127.0.0.1.
"""

import functools
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.factories import PASSWORD, TOTP_SECRET

# Playwright's sync API runs an asyncio event loop in this thread, so Django would refuse the
# ORM calls that test code makes to set up rows ("You cannot call this from an async context").
# The calls are not concurrent with the loop; they only share the thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
PHONE_VIEWPORT = {"width": 390, "height": 844}
# Playwright's defaults are 30 s; a page of ours that takes longer than this is a failure.
TIMEOUT_MS = 10_000
DASHBOARD_URL = re.compile(r"^http://[^/]+/$")
TWO_FACTOR_URL = re.compile(r"/accounts/2fa/authenticate/$")
TOTP_PERIOD = 30
# A code typed in the last moments of its 30 s step may arrive after it expired (allauth accepts
# one neighbouring step, MFA_TOTP_TOLERANCE=1, but a fresh step keeps the test plain).
TOTP_MIN_SECONDS_LEFT = 3


# --- Browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server: Any) -> Iterator[Callable[..., Page]]:
    """Opens a page in a fresh browser context aimed at the live server (so the test runs with
    a transactional database); keyword arguments go to `Browser.new_context` (a viewport, for
    instance). Contexts close after the test."""
    contexts = []

    def open_page(**context_options: Any) -> Page:
        context = browser.new_context(base_url=live_server.url, **context_options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A desktop-sized page (Playwright's default 1280x720)."""
    return new_page()


@pytest.fixture
def phone_page(new_page: Callable[..., Page]) -> Page:
    """A page the size of a common phone screen, with touch."""
    return new_page(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)


# --- Accessibility ----------------------------------------------------------------------------


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Runs axe-core on the page's current document and returns its violations, each as
    {id, impact, help, helpUrl, targets}.

    axe is injected with `page.evaluate`, which Chromium runs outside the page's
    Content-Security-Policy; a <script> tag would be blocked by our nonce-only script-src.
    """
    page.evaluate(_axe_source())
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                targets: v.nodes.map((node) => node.target.join(" ")),
            }));
        }""",
        AXE_TAGS,
    )


def assert_accessible(page: Page) -> None:
    """Fails when axe-core finds a serious or critical violation of WCAG 2.2 A/AA or of its
    best practices on the current page; the message names each rule and where it failed."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>\n"
        + "\n".join(f"    at {target}" for target in v["targets"])
        for v in blocking
    )
    assert not blocking, f"axe-core found violations on {page.url}:\n{report}"


def tab_through(page: Page, presses: int) -> list[str]:
    """Presses Tab `presses` times and returns the text of the element focused after each."""
    names = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        names.append(page.evaluate("document.activeElement.innerText.trim()"))
    return names


# --- Signing in -------------------------------------------------------------------------------


def current_totp_code() -> str:
    """The code an authenticator app enrolled with TOTP_SECRET shows now, with at least
    TOTP_MIN_SECONDS_LEFT seconds before it expires."""
    seconds_left = TOTP_PERIOD - time.time() % TOTP_PERIOD
    if seconds_left < TOTP_MIN_SECONDS_LEFT:
        time.sleep(seconds_left + 0.1)
    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // TOTP_PERIOD))


def submit_password(page: Page, email: str, password: str = PASSWORD) -> None:
    """Fills the sign-in form on the current page and submits it."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def submit_authenticator_code(page: Page) -> None:
    """Enters the current TOTP code on the two-factor page and submits it."""
    expect(page).to_have_url(TWO_FACTOR_URL)
    page.get_by_label("Code").fill(current_totp_code())
    page.get_by_role("button", name="Sign in").click()


def sign_in_staff(page: Page, email: str) -> None:
    """Signs a staff member enrolled with TOTP_SECRET in through the real pages; ends on the
    page the login redirects to (the dashboard unless a `next` was given)."""
    page.goto("/accounts/login/")
    submit_password(page, email)
    submit_authenticator_code(page)
