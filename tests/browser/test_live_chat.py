"""Two clerks of different branches use the chat page at the same time."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ApiUser, Tab
from tests.cast import CHENGBEI, HUAQIAO, Cast

pytestmark = pytest.mark.browser


def test_clerks_of_two_branches_see_each_other_online_and_chat_live(
    open_tab, api_user, cast: Cast
) -> None:
    trainer: ApiUser = api_user("zhangwei")
    trainer.post(cast.company_room_id, "各营业厅注意：新版资费文件今天起执行，有疑问在这里问。")

    wang: Tab = open_tab()
    wang.log_in("wangfang")
    li: Tab = open_tab()
    li.log_in("lina")
    wang.page.evaluate("window.__sameDocument = true")

    expect(wang.page).to_have_url(re.compile(rf"/rooms/{cast.company_room_id}$"))
    expect(li.page).to_have_url(re.compile(rf"/rooms/{cast.company_room_id}$"))
    huaqiao = wang.page.locator("#people-list section", has_text=HUAQIAO)
    expect(huaqiao.locator(".person", has_text="李娜")).to_have_attribute("data-online", "true")
    chengbei = li.page.locator("#people-list section", has_text=CHENGBEI)
    expect(chengbei.locator(".person", has_text="王芳")).to_have_attribute("data-online", "true")

    wang.send("有机顶盒和没机顶盒的用户，新资费怎么收？")
    question = li.messages.filter(has_text="没机顶盒的用户")
    expect(question).to_have_count(1, timeout=1000)
    expect(question.locator(".author")).to_have_text("王芳")
    expect(question.locator(".branch")).to_have_text(CHENGBEI)

    li.send("我们花桥按文件第三条：有终端的收 15 元，没有终端的收 10 元。")
    answer = wang.messages.filter(has_text="第三条")
    expect(answer).to_have_count(1, timeout=1000)
    expect(answer.locator(".branch")).to_have_text(HUAQIAO)
    wang.send("收到，谢谢！资源编码我们也统一写成 **B1E0**，不再电话报。")
    expect(li.messages.filter(has_text="资源编码")).to_have_count(1, timeout=1000)
    expect(li.messages.filter(has_text="资源编码").locator(".body strong")).to_have_text("B1E0")
    assert wang.page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert wang.message_bodies() == li.message_bodies()
    wang.screenshot("chat.png")

    stored = li.page.evaluate(
        """() => fetch(`/api/v1/rooms/${JSON.parse(document.getElementById("boot")
             .textContent).room.id}/messages`).then((r) => r.json())"""
    )["messages"][-1]
    time = li.messages.last.locator("time")
    expect(time).to_have_attribute("datetime", stored["created_at"])
    shanghai = li.page.evaluate(
        """(iso) => new Intl.DateTimeFormat("zh-CN", {timeZone: "Asia/Shanghai",
             hour: "2-digit", minute: "2-digit", hourCycle: "h23"}).format(new Date(iso))""",
        stored["created_at"],
    )
    expect(time).to_have_text(shanghai)

    li.page.close()
    gone = wang.person("李娜")
    expect(gone).to_have_attribute("data-online", "false", timeout=5000)
    expect(gone).to_have_class(re.compile(r"\boffline\b"))
    expect(gone.locator(".status")).to_contain_text(re.compile(r"\d{2}:\d{2}"))
