"""The "API tokens" page: reached from the account menu, a token made with its scopes is
shown once with a copy button, listed, and revoked; usable at phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Tab

pytestmark = pytest.mark.browser


def test_a_clerk_makes_copies_and_revokes_a_read_only_token_on_her_phone(open_tab) -> None:
    desk: Tab = open_tab()
    desk.enter("wangfang")
    desk.page.locator("#account-menu summary").click()
    desk.page.locator("#tokens-link").click()
    expect(desk.page).to_have_url(re.compile(r"/account/tokens$"))
    tab: Tab = open_tab(viewport=PHONE)
    tab.enter("wangfang")
    tab.goto("/account/tokens")
    expect(tab.page.locator("#no-tokens")).to_be_visible()
    expect(tab.page.locator("input[name=scope][value=admin]")).to_have_count(0)
    tab.page.get_by_label("用途").fill("叫号屏")
    tab.page.locator("input[name=scope][value=post]").uncheck()
    tab.page.get_by_label("有效期").select_option("30")
    tab.page.locator("form.token-form button[type=submit]").click()

    secret = tab.page.locator("#token-secret")
    expect(secret).to_have_value(re.compile(r"^cl_"))
    tab.page.locator("#copy-token").click()
    expect(tab.page.locator("#copy-status")).not_to_be_empty()
    row = tab.page.locator(".token-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("叫号屏")
    expect(row).to_contain_text("read")
    expect(row).not_to_contain_text("post")
    assert tab.horizontal_overflow() == 0
    tab.screenshot("api-tokens.png")

    tab.page.locator(".token-row button.danger").click()
    expect(tab.page).to_have_url(re.compile(r"/account/tokens$"))
    expect(tab.page.locator(".token-row")).to_have_count(0)
    expect(tab.page.locator("#token-secret")).to_have_count(0)  # shown once only
