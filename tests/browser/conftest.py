"""Browser fixtures: Debian chromium driven through Playwright's sync API.

Every tab records its console errors, uncaught script errors and Content-Security-Policy
violations; a test fails at teardown if any appeared that it did not declare as expected.
Set COUNTERLINE_SCREENSHOTS=<dir> to save the screenshots the tests take (scripts/screenshots);
without it nothing is written.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from counterline.deps import SESSION_COOKIE
from tests.browser.seeding import open_session
from tests.cast import PASSWORD, Cast
from tests.conftest import IN_CI
from tests.support.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 740}
# The browser's own zone differs from the server's configured one (Asia/Shanghai), so a test
# that sees Shanghai times knows the page formats in the configured zone.
BROWSER_ZONE = "Europe/London"
CSP_VIOLATION = "securitypolicyviolation"
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass
class Tab:
    """One browser tab of one person, with what went wrong in it."""

    page: Page
    server: LiveServer
    errors: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect_console_error(self, pattern: str) -> None:
        """Declare an error message this test provokes on purpose (e.g. a 400 answer)."""
        self.expected.append(re.compile(pattern))

    def record(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def csp_violations(self) -> list[str]:
        if self.page.is_closed():
            return []
        return self.page.evaluate("window.__cspViolations || []")

    def unexpected_errors(self) -> list[str]:
        return [
            error
            for error in self.errors
            if not any(pattern.search(error) for pattern in self.expected)
        ]

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        """Log in through the login form and wait until the room's live stream is ready."""
        self.goto("/login")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(password)
        self.page.locator("form[action='/login'] button[type=submit]").click()
        self.page.wait_for_url(re.compile(r"/rooms/\d+$"))
        self.wait_until_connected()

    def enter(self, username: str, path: str = "/") -> None:
        """Arrive logged in (a session made directly in the database) and wait for the stream."""
        token, _ = open_session(self.server.settings, username)
        self.page.context.add_cookies(
            [{"name": SESSION_COOKIE, "value": token, "url": self.server.url}]
        )
        self.goto(path)
        self.page.wait_for_url(re.compile(r"/rooms/\d+$"))
        self.wait_until_connected()

    def choose_language(self, language: str) -> None:
        """Switch the page's language from the account menu, as a user does."""
        self.page.locator("#account-menu summary").click()
        self.page.locator("#language-select").select_option(language)
        self.page.locator("#account-menu form[action='/account/language'] button").click()
        self.wait_until_connected()

    def wait_until_connected(self) -> None:
        self.page.wait_for_selector("body[data-connection='connected']", state="attached")

    def string(self, name: str) -> str:
        """A translated string the page's scripts use (from the page's boot data)."""
        return self.page.evaluate(
            "(name) => JSON.parse(document.getElementById('boot').textContent).strings[name]", name
        )

    def record_banner(self) -> None:
        """From now on, remember every text the connection banner shows (window.__banner)."""
        self.page.evaluate(
            """() => {
              const banner = document.getElementById("connection-status");
              window.__banner = [];
              new MutationObserver(() => window.__banner.push(banner.textContent))
                .observe(banner, {childList: true, characterData: true, subtree: true});
            }"""
        )

    def banner_history(self) -> list[str]:
        return self.page.evaluate("window.__banner")

    @property
    def composer(self) -> Any:
        return self.page.locator("#composer-input")

    @property
    def messages(self) -> Any:
        return self.page.locator("#messages > li.message")

    def send(self, text: str) -> None:
        self.composer.fill(text)
        self.composer.press("Enter")

    def expect_all_sent(self) -> None:
        """Every message this tab sent is confirmed by the server (rendered, not pending)."""
        expect(self.page.locator("#messages > li.message.pending")).to_have_count(0)

    def message_bodies(self) -> list[str]:
        return [body.strip() for body in self.page.locator("#messages .body").all_inner_texts()]

    def person(self, username_display: str) -> Any:
        return self.page.locator("#people-list .person", has_text=username_display)

    def horizontal_overflow(self) -> int:
        return self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )

    def screenshot(self, name: str) -> None:
        """Save docs-style screenshots only when COUNTERLINE_SCREENSHOTS names a folder."""
        folder = os.environ.get("COUNTERLINE_SCREENSHOTS")
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(Path(folder) / name), animations="disabled")


@pytest.fixture(scope="package")
def playwright(template: tuple[str, Cast]) -> Iterator[Playwright]:
    """Playwright's sync API keeps its event loop marked as running in this thread, so
    asyncio.run() fails while it is alive: the template database is built before it starts,
    and it stops when the browser tests are done, before any asyncio test runs."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)"
        if IN_CI:
            pytest.fail(f"{reason}; CI=true requires the browser tests", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
    )
    yield browser
    browser.close()


@pytest.fixture
def open_tab(browser: Browser, server: LiveServer) -> Iterator[Callable[..., Tab]]:
    """``open_tab()`` opens a tab in a fresh browser profile (its own cookies) on the server;
    ``open_tab(viewport=PHONE)`` on a phone-sized screen; ``open_tab(beside=tab)`` another tab
    of the same profile (same cookies)."""
    contexts = []
    tabs: list[Tab] = []

    def open_one(*, viewport: dict[str, int] = DESKTOP, beside: Tab | None = None) -> Tab:
        if beside is not None:
            page = beside.page.context.new_page()
        else:
            context = browser.new_context(
                viewport=viewport,
                locale="zh-CN",
                timezone_id=BROWSER_ZONE,
                device_scale_factor=1,
                is_mobile=viewport == PHONE,
                has_touch=viewport == PHONE,
            )
            context.set_default_timeout(8000)
            context.add_init_script(RECORD_CSP_VIOLATIONS)
            contexts.append(context)
            page = context.new_page()
        tab = Tab(page, server)
        page.on("console", tab.record)
        page.on("pageerror", lambda error: tab.errors.append(f"uncaught: {error}"))
        tabs.append(tab)
        return tab

    yield open_one
    problems = []
    for tab in tabs:
        violations = tab.csp_violations()
        if violations:
            problems.append(f"CSP violations: {violations}")
        unexpected = tab.unexpected_errors()
        if unexpected:
            problems.append(f"console errors: {unexpected}")
    for context in contexts:
        context.close()
    assert not problems, problems


class ApiUser:
    """A cast member using the JSON API directly (another program, or another PC)."""

    def __init__(self, server: LiveServer, username: str) -> None:
        token, self.csrf_token = open_session(server.settings, username)
        self.http = httpx.Client(base_url=server.url, timeout=20, cookies={SESSION_COOKIE: token})

    def post(self, room_id: int, body: str) -> dict[str, Any]:
        response = self.http.post(
            f"/api/v1/rooms/{room_id}/messages",
            json={"body": body, "client_id": f"api-{uuid.uuid4().hex}"},
            headers={"X-CSRF-Token": self.csrf_token},
        )
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def api_user(server: LiveServer) -> Iterator[Callable[[str], ApiUser]]:
    """``api_user("lina")`` logs her in through the API of the test's server."""
    users: list[ApiUser] = []

    def make(username: str) -> ApiUser:
        user = ApiUser(server, username)
        users.append(user)
        return user

    yield make
    for user in users:
        user.http.close()
