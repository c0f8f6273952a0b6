"""Who sees client addresses, unread badges, and pages free of CSP violations and errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.cast import CHENGBEI, Cast

pytestmark = pytest.mark.browser


def test_manager_sees_the_client_ip_of_each_message_and_a_clerk_does_not(
    open_tab, api_user, cast: Cast
) -> None:
    api_user("lina").post(cast.company_room_id, "历史消息")
    manager: Tab = open_tab()
    manager.enter("zhaomin")
    clerk: Tab = open_tab()
    clerk.enter("wangfang")
    api_user("lina").post(cast.company_room_id, "实时消息")

    for body in ("历史消息", "实时消息"):
        expect(manager.messages.filter(has_text=body).locator(".ip")).to_be_visible()
        expect(manager.messages.filter(has_text=body).locator(".ip")).to_contain_text("127.0.0.1")
        expect(clerk.messages.filter(has_text=body)).to_have_count(1)
        expect(clerk.messages.filter(has_text=body).locator(".ip")).to_be_hidden()
    assert "127.0.0.1" not in clerk.page.locator("#messages").inner_html()
    assert "127.0.0.1" not in clerk.page.locator("#boot").text_content()


def test_unread_badge_counts_messages_in_other_rooms_until_they_are_opened(
    open_tab, api_user, cast: Cast
) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    branch_room = cast.branch_room_ids[CHENGBEI]
    badge = wang.page.locator(f"[data-unread='{branch_room}']")
    expect(badge).to_be_hidden()
    manager = api_user("zhaomin")
    manager.post(branch_room, "城北今天下午盘点终端库存。")
    manager.post(branch_room, "请大家四点前把 B1E0 批次报上来。")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("2")
    expect(wang.messages).to_have_count(0)

    wang.page.locator(f"[data-room-link='{branch_room}']").click()
    wang.wait_until_connected()
    expect(wang.messages).to_have_count(2)
    wang.page.locator(f"[data-room-link='{cast.company_room_id}']").click()
    wang.wait_until_connected()
    expect(wang.page.locator(f"[data-unread='{branch_room}']")).to_be_hidden()
    manager.post(branch_room, "补充：盘点表在共享盘。")
    expect(wang.page.locator(f"[data-unread='{branch_room}']")).to_contain_text("1")
    wang.page.reload()
    wang.wait_until_connected()
    expect(wang.page.locator(f"[data-unread='{branch_room}']")).to_contain_text("1")


UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button, a[href]")]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
    && !el.getAttribute("aria-labelledby") && !el.textContent.trim())
  .map((el) => el.outerHTML.slice(0, 80))"""


def test_every_page_loads_without_csp_violations_console_errors_or_unnamed_controls(
    open_tab, cast: Cast
) -> None:
    tab: Tab = open_tab()
    tab.expect_console_error("status of 404")
    pages = ["/login", "/api/v1/docs", "ENTER", f"/rooms/{cast.company_room_id}"]
    pages += ["/account/password", "/no-such-page"]
    for path in pages:
        if path == "ENTER":
            tab.enter("wangfang")
            continue
        response = tab.page.goto(tab.server.url + path)
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        if path.startswith("/rooms/"):
            tab.wait_until_connected()
        assert tab.csp_violations() == [], path
        assert tab.unexpected_errors() == [], path
        assert tab.page.evaluate(UNNAMED_CONTROLS) == [], f"controls without a name on {path}"
        assert tab.page.get_by_role("main").count() == 1, path
