"""The room page on a 1366x768 office screen, on a 375px phone, and with the keyboard only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, ApiUser, Tab
from tests.cast import HUAQIAO, Cast

pytestmark = pytest.mark.browser

FOCUS_OUTLINE = "getComputedStyle(document.activeElement).outlineStyle"


def some_conversation(api_user, cast: Cast) -> None:
    zhang: ApiUser = api_user("zhangwei")
    li: ApiUser = api_user("lina")
    zhang.post(cast.company_room_id, "新版宽带资费今天起执行，疑问请在这里提出。")
    li.post(cast.company_room_id, "花桥这边：老用户续费也按新价吗？")
    zhang.post(cast.company_room_id, "续费按新价，合同期内的不变。详见文件第 **5** 条。")


def test_office_screen_shows_rooms_conversation_and_people_side_by_side(
    open_tab, api_user, cast: Cast
) -> None:
    some_conversation(api_user, cast)
    wang: Tab = open_tab(viewport=DESKTOP)
    wang.enter("wangfang")
    page = wang.page
    for landmark in ("navigation", "main", "complementary", "log"):
        expect(page.get_by_role(landmark).first).to_be_visible()
    expect(page.locator("#rooms-panel")).to_be_in_viewport()
    expect(page.locator("#people-panel")).to_be_in_viewport()
    expect(page.locator("#rooms-toggle")).to_be_hidden()
    expect(page.locator("#people-toggle")).to_be_hidden()
    expect(wang.composer).to_be_in_viewport()
    assert wang.horizontal_overflow() == 0


def test_people_panel_in_english_shows_whole_names_beside_status_and_action(open_tab) -> None:
    wang: Tab = open_tab(viewport=DESKTOP)
    wang.enter("wangfang")
    wang.choose_language("en")
    li = wang.person("李娜")
    expect(li).to_contain_text("Never logged in")
    expect(li.locator("button")).to_have_text("Leave a message")
    clipped = wang.page.eval_on_selector_all(
        "#people-list .person .name",
        "names => names.filter(n => n.scrollWidth > n.clientWidth).map(n => n.textContent)",
    )
    assert clipped == []


def test_phone_collapses_panels_yet_rooms_people_and_composer_are_usable(
    open_tab, api_user, cast: Cast
) -> None:
    some_conversation(api_user, cast)
    wang: Tab = open_tab(viewport=PHONE)
    wang.enter("wangfang")
    page = wang.page
    assert wang.horizontal_overflow() == 0
    expect(page.locator("#rooms-panel")).to_be_hidden()
    expect(page.locator("#people-panel")).to_be_hidden()
    expect(wang.composer).to_be_in_viewport()

    wang.composer.tap()
    wang.composer.fill("手机上也能回复：收到。")
    page.locator("#composer button[type=submit]").tap()
    sent = wang.messages.filter(has_text="手机上也能回复")
    expect(sent).to_be_in_viewport()
    expect(sent).not_to_have_class(re.compile(r"\bpending\b"))
    expect(wang.composer).to_have_value("")
    assert wang.horizontal_overflow() == 0
    wang.screenshot("chat-phone.png")

    rooms_toggle = page.locator("#rooms-toggle")
    rooms_toggle.tap()
    expect(rooms_toggle).to_have_attribute("aria-expanded", "true")
    branch_room = page.locator("#rooms-panel a", has_text="城北营业厅")
    expect(branch_room).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(page.locator("#rooms-panel")).to_be_hidden()
    expect(rooms_toggle).to_be_focused()

    page.locator("#people-toggle").tap()
    people = page.locator("#people-panel")
    expect(people).to_be_in_viewport()
    expect(people.locator("section", has_text=HUAQIAO)).to_be_visible()
    page.locator("#people-panel [data-panel-close]").tap()
    expect(people).to_be_hidden()

    rooms_toggle.tap()
    branch_room.tap()
    expect(page.locator("#room-title")).to_have_text("城北营业厅")
    assert wang.horizontal_overflow() == 0


def test_keyboard_alone_skips_to_the_conversation_and_sends_with_visible_focus(open_tab) -> None:
    wang: Tab = open_tab(viewport=DESKTOP)
    wang.enter("wangfang")
    page = wang.page
    page.locator("body").focus()
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    visited = []
    for _ in range(40):
        page.keyboard.press("Tab")
        visited.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        assert page.evaluate(FOCUS_OUTLINE) != "none", f"no visible focus on {visited[-1]}"
        if visited[-1] == "composer-input":
            break
    else:
        pytest.fail(f"Tab never reached the composer: {visited}")
    assert "messages" in visited, "the message log is reachable for reading with the keyboard"
    page.keyboard.type("键盘发送")
    page.keyboard.press("Enter")
    expect(wang.messages.filter(has_text="键盘发送")).to_have_count(1)
    expect(wang.composer).to_be_focused()
