"""The admin console in a browser: an administrator renames a branch and changes the site
name and logo; the console fits a phone without sideways scrolling."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Tab
from tests.cast import CHENGBEI, Cast

pytestmark = pytest.mark.browser


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_admin_renames_a_branch_and_the_site_on_a_phone(open_tab, cast: Cast) -> None:
    tab: Tab = open_tab(viewport=PHONE)
    tab.enter("chengang")
    tab.goto("/admin")
    expect(tab.page.locator(".console-nav a[href='/admin/branches']")).to_be_visible()
    assert tab.horizontal_overflow() <= 0
    tab.page.locator("#console-cards a[href='/admin/branches']").click()
    expect(tab.page).to_have_url(re.compile(r"/admin/branches$"))
    assert tab.horizontal_overflow() <= 0  # the wide tables scroll inside their box

    row = tab.page.locator(f"#branch-{cast.branch_ids[CHENGBEI]}")
    row.get_by_role("textbox").fill("城北中心营业厅")
    row.get_by_role("button", name="改名").click()
    expect(tab.page.locator("#console-done")).to_be_visible()
    expect(tab.page.locator(f"#branch-{cast.branch_ids[CHENGBEI]} th")).to_have_text(
        "城北中心营业厅"
    )
    expect(tab.page.locator("#room-table")).to_contain_text("城北中心营业厅")

    tab.page.locator(".console-nav a[href='/admin/settings']").click()
    assert tab.horizontal_overflow() <= 0
    tab.page.get_by_label("站点名称").fill("城北业务交流")
    tab.page.get_by_label("上传图片作为标志").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png()}]
    )
    expect(tab.page.locator("#logo-preview")).to_be_visible()
    expect(tab.page.locator("#site_logo")).to_have_value(re.compile(r"^\d+$"))
    tab.page.get_by_label("时区").fill("Mars/Base")
    tab.expect_console_error("status of 400")  # the refused form comes back as a 400 page
    tab.page.get_by_role("button", name="保存设置").click()
    expect(tab.page.locator("#time_zone-error")).to_be_visible()
    expect(tab.page.get_by_label("时区")).to_have_attribute("aria-invalid", "true")
    tab.page.get_by_label("时区").fill("")
    tab.page.get_by_role("button", name="保存设置").click()
    expect(tab.page.locator("#console-done")).to_be_visible()
    expect(tab.page).to_have_title(re.compile(r"· 城北业务交流$"))
    expect(tab.page.locator(".topbar .brand-name")).to_have_text("城北业务交流")
    logo = tab.page.request.get(tab.server.url + "/site/logo")
    assert logo.headers["content-type"] == "image/png"
    assert tab.horizontal_overflow() <= 0
