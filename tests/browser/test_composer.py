"""Typing and sending: Enter, Shift+Enter, Chinese input methods, errors and retries."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Route, expect

from tests.browser.conftest import Tab
from tests.cast import Cast

pytestmark = pytest.mark.browser

COMPOSE_AND_CONFIRM_WITH_ENTER = """
(text) => {
  const box = document.getElementById("composer-input");
  box.focus();
  box.dispatchEvent(new CompositionEvent("compositionstart", {data: ""}));
  box.value = text;
  box.dispatchEvent(new CompositionEvent("compositionupdate", {data: text}));
  const enter = new KeyboardEvent("keydown", {key: "Enter", code: "Enter", keyCode: 229,
    which: 229, isComposing: true, bubbles: true, cancelable: true});
  box.dispatchEvent(enter);
  box.dispatchEvent(new CompositionEvent("compositionend", {data: text}));
  return enter.defaultPrevented;
}
"""


def test_enter_sends_and_shift_enter_adds_a_line(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    box = wang.composer
    box.click()
    box.press_sequentially("第一行")
    box.press("Shift+Enter")
    box.press_sequentially("第二行")
    expect(box).to_have_value("第一行\n第二行")
    expect(wang.messages).to_have_count(0)

    box.press("Enter")
    expect(wang.messages).to_have_count(1)
    expect(wang.messages.locator(".body")).to_have_text("第一行\n第二行")
    expect(box).to_have_value("")
    expect(box).to_be_focused()


def test_enter_that_confirms_an_ime_composition_does_not_send(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    prevented = wang.page.evaluate(COMPOSE_AND_CONFIRM_WITH_ENTER, "机顶盒")
    assert prevented is False, "the IME's Enter must reach the input method untouched"
    wang.page.wait_for_timeout(200)
    expect(wang.messages).to_have_count(0)
    expect(wang.composer).to_have_value("机顶盒")

    wang.composer.press("End")
    wang.composer.press_sequentially("押金")
    wang.composer.press("Enter")
    expect(wang.messages).to_have_count(1)
    expect(wang.messages.locator(".body")).to_have_text("机顶盒押金")
    wang.page.wait_for_timeout(300)
    expect(wang.messages).to_have_count(1)


def test_ime_composition_through_the_browser_input_pipeline_is_not_sent(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    wang.composer.focus()
    cdp = wang.page.context.new_cdp_session(wang.page)
    cdp.send("Input.imeSetComposition", {"text": "zi yuan", "selectionStart": 7, "selectionEnd": 7})
    cdp.send(
        "Input.dispatchKeyEvent",
        {"type": "rawKeyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 229},
    )
    cdp.send("Input.insertText", {"text": "资源"})
    wang.page.wait_for_timeout(200)
    expect(wang.messages).to_have_count(0)
    expect(wang.composer).to_have_value("资源")

    wang.composer.press("Enter")
    expect(wang.messages).to_have_count(1)
    expect(wang.messages.locator(".body")).to_have_text("资源")


def test_message_shows_as_sending_and_is_retried_with_the_same_id_until_stored(
    open_tab, cast: Cast
) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    attempts: list[str] = []

    def overloaded_then_offline_then_fine(route: Route) -> None:
        attempts.append(route.request.post_data_json["client_id"])
        if len(attempts) == 1:
            route.fulfill(
                status=429,
                headers={"Retry-After": "1"},
                json={"error": "busy"},
            )
        elif len(attempts) == 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    messages_url = re.compile(rf"/api/v1/rooms/{cast.company_room_id}/messages$")
    wang.page.route(messages_url, overloaded_then_offline_then_fine)
    wang.expect_console_error("status of 429|ERR_CONNECTION_RESET|Failed to fetch|net::")
    wang.send("网络不好也别丢")
    pending = wang.messages.filter(has_text="网络不好也别丢")
    expect(pending).to_have_class(re.compile(r"\bpending\b"))
    expect(pending.locator(".state")).to_have_text(wang.string("send_failed"))
    expect(wang.page.locator("#composer-error")).to_be_hidden()

    expect(pending).not_to_have_class(re.compile(r"\bpending\b"), timeout=8000)
    expect(wang.messages).to_have_count(1)
    expect(pending.locator(".time")).not_to_have_text("")
    assert len(attempts) == 3 and len(set(attempts)) == 1, attempts


def test_too_long_message_shows_the_server_error_and_keeps_the_text(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    wang.expect_console_error("status of 400")
    text = "长" * 10_001
    wang.composer.fill(text)
    wang.composer.press("Enter")
    error = wang.page.locator("#composer-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("10001")
    expect(error).to_contain_text("10000")
    expect(wang.messages).to_have_count(0)
    expect(wang.composer).to_have_value(text)
