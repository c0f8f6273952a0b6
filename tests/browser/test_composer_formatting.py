"""Rich messages, composer side: the formatting toolbar and shortcuts, the preview, the emoji
picker, Enter on a phone, and pictures pasted into the message box (uploaded, then sent)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Route, expect

from tests.browser.conftest import PHONE, Tab

pytestmark = pytest.mark.browser

SELECT = """
([word, nth]) => {
  const box = document.getElementById("composer-input");
  let at = -1;
  for (let i = 0; i <= nth; i += 1) at = box.value.indexOf(word, at + 1);
  box.focus();
  box.setSelectionRange(at, at + word.length);
}
"""

# A screenshot as the clipboard hands it over: a PNG file, no text.
PASTE_PICTURE = """
async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 40;
  canvas.height = 30;
  const context = canvas.getContext("2d");
  context.fillStyle = "#c62828";
  context.fillRect(0, 0, 40, 30);
  const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
  const data = new DataTransfer();
  data.items.add(new File([blob], "image.png", {type: "image/png"}));
  const box = document.getElementById("composer-input");
  box.focus();
  const paste = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  box.dispatchEvent(paste);
  return paste.defaultPrevented;
}
"""

DROP = """
(file) => {
  const data = new DataTransfer();
  data.items.add(file);
  const box = document.getElementById("composer-input");
  const options = {dataTransfer: data, bubbles: true, cancelable: true};
  box.dispatchEvent(new DragEvent("dragover", options));
  box.dispatchEvent(new DragEvent("drop", options));
}
"""
DROP_TOO_LARGE = f"""
() => {{
  const limit = JSON.parse(document.getElementById("boot").textContent).max_upload_bytes;
  const file = new File([new Uint8Array(limit + 1)], "scan.pdf", {{type: "application/pdf"}});
  ({DROP})(file);
}}
"""
DROP_PROGRAM = f"""
() => ({DROP})(new File(["MZ not a document"], "setup.exe", {{type: "application/x-msdownload"}}))
"""


def select(tab: Tab, word: str, nth: int = 0) -> None:
    tab.page.evaluate(SELECT, [word, nth])


def test_toolbar_and_shortcuts_format_the_selection_and_preview_shows_it(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    lina: Tab = open_tab()
    lina.enter("lina")
    page = wang.page
    wang.composer.fill("押金 B1E-0D7 注意 明天")

    select(wang, "押金")
    page.get_by_role("button", name=wang.string("fmt_bold")).click()
    select(wang, "B1E-0D7")
    page.locator(".tool-code").click()
    select(wang, "注意")
    colour = page.locator(".tool-colour")
    colour.focus()
    colour.press("Enter")
    expect(colour).to_have_attribute("aria-expanded", "true")
    red = page.get_by_role("menuitem", name=wang.string("colour_red"))
    expect(red).to_be_focused()
    red.press("Enter")
    expect(colour).to_have_attribute("aria-expanded", "false")
    select(wang, "明天")
    wang.composer.press("Control+b")
    expect(wang.composer).to_have_value("**押金** `B1E-0D7` {red}注意{/red} **明天**")
    expect(wang.composer).to_be_focused()
    # Ctrl+Z undoes the last change like typing would.
    wang.composer.press("Control+z")
    expect(wang.composer).to_have_value("**押金** `B1E-0D7` {red}注意{/red} 明天")
    wang.composer.press("Control+y")
    expect(wang.composer).to_have_value("**押金** `B1E-0D7` {red}注意{/red} **明天**")

    preview_button = page.locator(".tool-preview")
    preview_button.click()
    expect(preview_button).to_have_attribute("aria-pressed", "true")
    preview = page.locator("#composer-preview")
    expect(preview.locator("strong").first).to_have_text("押金")
    expect(preview.locator("code")).to_have_text("B1E-0D7")
    expect(preview.locator("span.tc-red")).to_have_text("注意")
    expect(wang.messages).to_have_count(0)
    wang.screenshot("composer-desktop.png")

    wang.composer.press("End")
    wang.composer.press("Enter")
    body = lina.messages.locator(".body")
    expect(body.locator("strong")).to_have_text(["押金", "明天"])
    expect(body.locator("code")).to_have_text("B1E-0D7")
    expect(body.locator("span.tc-red")).to_have_text("注意")
    expect(wang.composer).to_have_value("")
    expect(preview).to_contain_text(wang.string("preview_empty"))


def test_emoji_picker_link_dialog_and_lists_work_with_the_keyboard(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    page = wang.page
    wang.composer.fill("收到谢谢")
    wang.page.evaluate("document.getElementById('composer-input').setSelectionRange(2, 2)")
    # From the message box, Shift+Tab reaches the toolbar; arrows move along it.
    wang.composer.press("Shift+Tab")
    expect(page.locator(".tool-bold")).to_be_focused()
    emoji_button = page.locator(".tool-emoji")
    for _ in range(12):
        if page.evaluate("document.activeElement.dataset.tool") == "emoji":
            break
        page.keyboard.press("ArrowRight")
    expect(emoji_button).to_be_focused()

    page.keyboard.press("Enter")
    expect(emoji_button).to_have_attribute("aria-expanded", "true")
    picker = page.locator(".emoji-picker")
    expect(picker.locator(".emoji").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(emoji_button).to_be_focused()

    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")  # one row down from 😀: 😐
    page.keyboard.press("ArrowRight")
    expect(picker.locator(".emoji:focus")).to_have_text("😮")
    page.keyboard.press("Enter")
    expect(picker).to_be_hidden()
    expect(wang.composer).to_have_value("收到😮谢谢")
    expect(wang.composer).to_be_focused()

    select(wang, "谢谢")
    wang.composer.press("Control+k")
    address = page.get_by_label(wang.string("link_address"))
    expect(address).to_be_focused()
    address.press("Escape")
    expect(wang.composer).to_be_focused()
    wang.composer.press("Control+k")
    address.fill("www.example.cn/a b")
    address.press("Enter")
    expect(wang.composer).to_have_value("收到😮[谢谢](https://www.example.cn/a%20b)")
    expect(wang.messages).to_have_count(0)

    wang.composer.fill("核对证件\n收押金")
    wang.composer.press("Control+a")
    page.locator(".tool-numbers").click()
    expect(wang.composer).to_have_value("1. 核对证件\n2. 收押金")
    page.locator(".tool-numbers").click()
    expect(wang.composer).to_have_value("核对证件\n收押金")


def test_on_a_phone_enter_adds_a_line_and_the_send_button_sends(open_tab) -> None:
    wang: Tab = open_tab(viewport=PHONE)
    wang.enter("wangfang")
    page = wang.page
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")
    box = wang.composer
    box.tap()
    box.press_sequentially("第一行")
    box.press("Enter")
    box.press_sequentially("第二行")
    expect(box).to_have_value("第一行\n第二行")
    page.wait_for_timeout(150)
    expect(wang.messages).to_have_count(0)
    expect(box).to_have_attribute("enterkeyhint", "enter")

    send = page.locator(".send-button")
    area = send.bounding_box()
    assert area and area["height"] >= 44 and area["width"] >= 56, area
    assert area["x"] + area["width"] <= PHONE["width"], area
    assert wang.horizontal_overflow() == 0
    wang.screenshot("composer-phone.png")
    send.tap()
    expect(wang.messages).to_have_count(1)
    expect(wang.messages.locator(".body")).to_have_text("第一行\n第二行")
    expect(box).to_have_value("")
    expect(box).to_be_focused()


def test_pasted_picture_uploads_with_progress_and_goes_with_the_message(open_tab) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    page = wang.page
    tray = page.locator("#composer-tray")

    # A type the server refuses: its translated reason shows beside the file.
    wang.expect_console_error("status of 415")
    with page.expect_response(re.compile(r"/api/v1/uploads$")) as refused_upload:
        page.evaluate(DROP_PROGRAM)
    assert refused_upload.value.status == 415
    program = tray.locator(".tray-item", has_text="setup.exe")
    expect(program.locator(".tray-error")).to_have_text(refused_upload.value.json()["error"])
    program.get_by_role("button").click()

    held: list[Route] = []
    page.route(re.compile(r"/api/v1/uploads$"), lambda route: held.append(route))
    page.evaluate(DROP_TOO_LARGE)
    refused = tray.locator(".tray-item", has_text="scan.pdf")
    expect(refused.locator(".tray-error")).to_contain_text("scan.pdf")
    expect(refused.get_by_role("progressbar")).to_be_hidden()
    refused.get_by_role("button").click()
    expect(tray).to_be_hidden()
    assert held == [], "a file over the limit is refused before it is sent"

    assert page.evaluate(PASTE_PICTURE) is True
    item = tray.locator(".tray-item")
    expect(item).to_have_count(1)
    progress = item.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(progress).to_have_accessible_name(re.compile("image.png"))
    # The message can't leave before its picture is stored.
    wang.composer.press("Enter")
    expect(page.locator("#composer-error")).to_have_text(wang.string("upload_wait"))
    expect(wang.messages).to_have_count(0)

    with page.expect_response(re.compile(r"/api/v1/uploads$")) as uploaded:
        held[0].continue_()
    assert uploaded.value.status == 201, uploaded.value.text()
    upload = uploaded.value.json()
    expect(item).to_have_class(re.compile(r"\bdone\b"))
    expect(progress).to_be_hidden()

    wang.composer.fill("截图")
    with page.expect_response(
        lambda response: response.url.endswith("/messages") and response.request.method == "POST"
    ) as posted:
        wang.composer.press("Enter")
    assert posted.value.request.post_data_json["attachments"] == [upload["id"]]
    assert posted.value.status == 201, posted.value.text()
    assert [a["id"] for a in posted.value.json()["attachments"]] == [upload["id"]]
    expect(tray).to_be_hidden()
