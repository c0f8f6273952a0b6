"""The portal in a browser: an administrator adds two systems for one branch only; a clerk
of that branch sees them (and stars one with the keyboard), a clerk of another branch does
not; when a system stops answering, its card turns "unreachable" after the next check."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from counterline.deps import SESSION_COOKIE
from tests.browser.conftest import PHONE, Tab
from tests.browser.seeding import open_session
from tests.support.live import LiveServer
from tests.support.status_site import StatusSite

pytestmark = pytest.mark.browser


@pytest.fixture
def site() -> Iterator[StatusSite]:
    running = StatusSite(hang_seconds=20)
    yield running
    running.stop()


@pytest.fixture
def server(start_server) -> LiveServer:
    # Checks every second, each given a second: a stopped system shows within a few seconds.
    return start_server(
        portal_check_seconds=1, portal_check_timeout_seconds=1, job_poll_seconds=0.2
    )


def add_entry(admin: Tab, name: str, url: str, branch: str) -> None:
    form = admin.page.locator("#portal-form")
    form.get_by_label("名称", exact=True).fill(name)
    form.get_by_label("访问地址", exact=True).fill(url)
    form.get_by_role("checkbox", name="所有人").uncheck()
    form.get_by_role("checkbox", name=branch).check()
    form.get_by_role("button", name="保存").click()
    expect(admin.page.locator("#portal-entries tr", has_text=name)).to_have_count(1)


def wait_until_down(server: LiveServer, username: str, name: str) -> None:
    token, _ = open_session(server.settings, username)
    with httpx.Client(base_url=server.url, cookies={SESSION_COOKIE: token}) as http:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            entries = http.get("/api/v1/portal").json()["entries"]
            if any(e["name"] == name and e["check"]["status"] == "down" for e in entries):
                return
            time.sleep(0.2)
    raise AssertionError(f"{name} never turned down")


def test_entries_for_one_branch_reach_its_clerks_only_and_turn_down_when_unanswered(
    open_tab, server: LiveServer, site: StatusSite
) -> None:
    admin: Tab = open_tab()
    admin.enter("chengang")
    admin.goto("/admin/portal")
    add_entry(admin, "城北信贷系统", f"{site.url}/ok", "城北营业厅")
    add_entry(admin, "城北报表系统", f"{site.url}/login", "城北营业厅")

    clerk: Tab = open_tab(viewport=PHONE)
    clerk.enter("wangfang")
    clerk.page.locator("#portal-link").click()
    cards = clerk.page.locator(".portal-card")
    expect(cards).to_have_count(2)
    link = cards.filter(has_text="城北信贷系统").locator("a.portal-open")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    assert clerk.horizontal_overflow() == 0
    star = cards.filter(has_text="城北报表系统").locator(".portal-star")
    star.focus()
    clerk.page.keyboard.press("Enter")
    expect(clerk.page.locator(".portal-group-title").first).to_have_text("我的常用")
    expect(clerk.page.locator(".portal-card").first).to_contain_text("城北报表系统")

    other: Tab = open_tab()
    other.enter("lina")
    other.goto("/portal")
    expect(other.page.locator(".portal-empty")).to_be_visible()
    expect(other.page.locator(".portal-card")).to_have_count(0)

    site.hang_all = True  # both systems stop answering
    wait_until_down(server, "wangfang", "城北信贷系统")
    clerk.page.reload()
    badge = clerk.page.locator(".portal-card", has_text="城北信贷系统").locator(".portal-badge")
    expect(badge).to_have_text("无法访问")
    expect(badge).to_have_attribute("data-status", "down")
