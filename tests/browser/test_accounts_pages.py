"""Logging in and out, the first-login password change, the language switch."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.browser.seeding import add_newcomer
from tests.cast import CHENGBEI, Cast

pytestmark = pytest.mark.browser


def test_wrong_password_shows_the_message_and_keeps_the_username(open_tab) -> None:
    tab: Tab = open_tab()
    tab.expect_console_error("status of 401")
    tab.goto("/login")
    tab.screenshot("login.png")
    tab.page.locator("#username").fill("wangfang")
    tab.page.locator("#password").fill("not-her-password")
    tab.page.locator("form[action='/login'] button[type=submit]").click()
    error = tab.page.get_by_role("alert")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(tab.page).to_have_url(re.compile(r"/login"))
    expect(tab.page.locator("#username")).to_have_value("wangfang")
    expect(tab.page.locator("#username")).to_have_attribute("aria-invalid", "true")
    expect(tab.page.locator("#password")).to_have_value("")


def test_newcomer_must_choose_a_password_before_reaching_the_chat(
    open_tab, server, cast: Cast
) -> None:
    one_time = add_newcomer(server.settings, "xiaoliu", CHENGBEI)
    tab: Tab = open_tab()
    tab.goto("/login")
    tab.page.locator("#username").fill("xiaoliu")
    tab.page.locator("#password").fill(one_time)
    tab.page.locator("form[action='/login'] button[type=submit]").click()
    expect(tab.page).to_have_url(re.compile(r"/account/password$"))
    expect(tab.page.get_by_role("status")).to_be_visible()
    tab.goto(f"/rooms/{cast.company_room_id}")
    expect(tab.page).to_have_url(re.compile(r"/account/password$"))

    tab.page.locator("#current_password").fill(one_time)
    tab.page.locator("#new_password").fill("my-own-pass-42")
    tab.page.locator("#repeat_password").fill("my-own-pass-42")
    tab.page.locator("form[action='/account/password'] button[type=submit]").click()
    expect(tab.page).to_have_url(re.compile(r"/rooms/\d+$"))
    tab.wait_until_connected()
    expect(tab.person("新同事")).to_have_attribute("data-online", "true")


def test_logging_out_ends_the_session_in_every_tab_and_shows_the_clerk_offline(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    li: Tab = open_tab()
    li.enter("lina")
    li_again: Tab = open_tab(beside=li)
    li_again.goto("/")
    li_again.wait_until_connected()
    expect(wang.person("李娜")).to_have_attribute("data-online", "true")

    li.page.locator("#account-menu summary").click()
    li.page.locator("#logout").click()
    expect(li.page).to_have_url(re.compile(r"/login$"))
    expect(li_again.page.locator("#connection-status")).to_have_text(
        li_again.string("session_ended")
    )
    expect(li_again.page).to_have_url(re.compile(r"/login$"))
    expect(wang.person("李娜")).to_have_attribute("data-online", "false")
    li.goto("/")
    expect(li.page).to_have_url(re.compile(r"/login$"))


def test_language_switch_changes_the_page_and_is_remembered(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    expect(wang.page.locator("html")).to_have_attribute("lang", "zh-CN")
    wang.choose_language("en")
    expect(wang.page.locator("html")).to_have_attribute("lang", "en")
    assert wang.string("reconnecting") == "Connection lost. Reconnecting…"
    wang.page.reload()
    expect(wang.page.locator("html")).to_have_attribute("lang", "en")
