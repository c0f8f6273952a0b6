"""The integrations page in a browser: an administrator makes an incoming webhook, sees its
address once (with a copy button), a tool posts through it and the message is in the room;
then the administrator revokes it and the address stops working. The page fits a phone."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Tab

pytestmark = pytest.mark.browser


def test_admin_creates_a_webhook_sees_its_url_once_and_revokes_it(
    open_tab, api_user, server
) -> None:
    admin: Tab = open_tab()
    admin.enter("chengang")
    admin.goto("/admin/integrations")
    page = admin.page
    page.locator("#hook-form").get_by_label("名称", exact=True).fill("社保系统监控")
    room_id = int(page.locator("#hook-room").input_value())
    page.get_by_role("button", name="创建 Webhook").click()

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("只显示这一次")
    url = page.locator("#secret-value").inner_text()
    assert f"{server.url}/hooks/" in url
    dialog.get_by_role("button", name="复制").click()
    expect(page.locator("#secret-copied")).to_have_text("已复制。")

    posted = httpx.post(url, json={"text": "社保卡系统恢复正常"}, timeout=20)
    assert posted.status_code == 200 and posted.text == "ok"
    reader = api_user("chengang")
    bodies = [
        message["body"]
        for message in reader.http.get(f"/api/v1/rooms/{room_id}/messages").json()["messages"]
    ]
    assert "社保卡系统恢复正常" in bodies

    dialog.get_by_role("button", name="完成").click()
    row = page.locator("#hooks-table tr", has_text="社保系统监控")
    expect(row).to_be_visible()  # listed after the reload, without its address
    assert url not in page.content()
    page.once("dialog", lambda confirm: confirm.accept())
    row.get_by_role("button", name="撤销").click()
    expect(page.locator("#integrations-flash")).to_have_text("已撤销。")
    expect(page.locator("#hooks-table tr", has_text="社保系统监控")).to_have_count(0)
    assert httpx.post(url, json={"text": "又一条"}, timeout=20).status_code == 404

    phone: Tab = open_tab(viewport=PHONE)
    phone.enter("chengang")
    phone.goto("/admin/integrations")
    main = phone.page.evaluate(
        "(() => { const m = document.querySelector('.console-main');"
        " return [m.getBoundingClientRect().right, m.scrollWidth - m.clientWidth]; })()"
    )
    assert main[0] <= PHONE["width"] and main[1] == 0
