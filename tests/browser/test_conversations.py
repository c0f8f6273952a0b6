"""A clerk messages a colleague from the people panel; the colleague's open tab lists the new
conversation at once, and the message is there when she opens it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.cast import Cast

pytestmark = pytest.mark.browser


def test_a_direct_message_from_the_people_panel_reaches_the_colleagues_tab_live(
    open_tab, cast: Cast
) -> None:
    li: Tab = open_tab()
    li.enter("lina")
    wang: Tab = open_tab()
    wang.enter("wangfang")
    expect(li.page.locator("#conversation-list li")).to_have_count(0)

    colleague = wang.person("李娜")
    message = colleague.locator("[data-message-user='lina']")
    expect(message).to_have_text(wang.string("message_action"))
    expect(wang.person("王芳").locator("[data-message-user]")).to_have_count(0)  # not oneself
    message.click()
    company = f"/rooms/{cast.company_room_id}"
    wang.page.wait_for_url(
        lambda url: bool(re.search(r"/rooms/\d+$", url)) and not url.endswith(company)
    )
    wang.wait_until_connected()
    expect(wang.page.locator("#room-title")).to_have_text("李娜")
    current = wang.page.locator("#conversation-list a[aria-current='page']")
    expect(current).to_have_text("李娜")
    wang.send("李娜你好，花桥的资费单能发我一份吗？")
    expect(wang.messages.filter(has_text="资费单")).to_have_count(1)

    # Her tab, still in the company room, lists the conversation under her colleague's name.
    link = li.page.locator("#conversation-list a", has_text="王芳")
    expect(link).to_have_count(1)
    link.click()
    li.page.wait_for_url(wang.page.url)
    li.wait_until_connected()
    expect(li.page.locator("#room-title")).to_have_text("王芳")
    expect(li.messages.filter(has_text="资费单")).to_have_count(1)
    li.send("好的，马上发。")
    expect(wang.messages.filter(has_text="马上发")).to_have_count(1)
