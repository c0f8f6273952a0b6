"""Rich messages in the timeline: resource codes that can be copied and read out, long
messages folded, pictures that keep their place, editing and deleting seen live, history."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Route, WebSocketRoute, expect

from tests.browser.conftest import PHONE, ApiUser, Tab
from tests.cast import Cast

pytestmark = pytest.mark.browser
STREAM = re.compile(r"/api/v1/stream")

CODE = "B1E0-O5lS8"
CODE_SPELLED = (
    "大写B（Bravo），1（数字一），大写E（Echo），0（数字零），-（横杠），大写O（Oscar），"
    "5（数字五），小写l（Lima），大写S（Sierra），8（数字八）"
)


def clipboard_of(tab: Tab) -> str:
    return tab.page.evaluate("navigator.clipboard.readText()")


def test_a_resource_code_is_spelled_out_and_copied_exactly(open_tab, api_user, cast: Cast) -> None:
    trainer: ApiUser = api_user("zhangwei")
    trainer.post(cast.company_room_id, f"新套餐资源编码：`{CODE}`，路径 \\\\files\\资费\\2026")
    li: Tab = open_tab()
    li.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=li.server.url)
    li.enter("lina")

    message = li.messages.last
    code = message.locator(".body code")
    expect(code).to_have_text(CODE)
    expect(code).to_have_attribute("title", CODE_SPELLED)
    expect(code).to_have_attribute("aria-description", CODE_SPELLED)
    copy = message.get_by_role("button", name=f"复制 {CODE}")
    copy.click()
    expect(li.page.locator("#timeline-status")).to_have_text("已复制。")
    assert clipboard_of(li) == CODE
    expect(copy).to_have_class(re.compile(r"\bcopied\b"))

    path = message.locator(".body .unc")
    expect(path).to_have_text("\\\\files\\资费\\2026")
    message.get_by_role("button", name=re.compile("^复制路径")).click()
    assert clipboard_of(li) == "\\\\files\\资费\\2026"
    # The copy buttons add no text: the body reads as it was written.
    assert li.message_bodies()[-1] == f"新套餐资源编码：{CODE}，路径 \\\\files\\资费\\2026"


def test_a_long_message_is_folded_with_show_more(open_tab, api_user, cast: Cast) -> None:
    trainer: ApiUser = api_user("zhangwei")
    lines = [f"第 {number} 条：办理流程说明" for number in range(1, 41)]
    trainer.post(cast.company_room_id, "\n".join(lines))
    trainer.post(cast.company_room_id, "短消息不折叠")
    wang: Tab = open_tab()
    wang.enter("wangfang")

    long, short = wang.messages.nth(0), wang.messages.nth(1)
    body = long.locator(".body")
    expect(body).to_have_class(re.compile(r"\bfolded\b"))
    folded_height = body.evaluate("(element) => element.getBoundingClientRect().height")
    line_height = body.evaluate("(element) => parseFloat(getComputedStyle(element).lineHeight)")
    assert 14 * line_height <= folded_height <= 16 * line_height
    expect(long.get_by_role("button", name="展开全文")).to_be_visible()
    toggle = long.locator(".fold-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_attribute("aria-controls", body.get_attribute("id") or "?")
    expect(short.locator(".fold-toggle")).to_be_hidden()

    toggle.focus()
    wang.page.keyboard.press("Enter")
    expect(body).not_to_have_class(re.compile(r"\bfolded\b"))
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_text("收起")
    assert body.evaluate("(element) => element.getBoundingClientRect().height") > 38 * line_height
    toggle.click()
    expect(body).to_have_class(re.compile(r"\bfolded\b"))
    expect(toggle).to_have_attribute("aria-expanded", "false")


def png(width: int, height: int) -> bytes:
    from io import BytesIO

    from PIL import Image

    picture = Image.new("RGB", (width, height), (20, 110, 190))
    for x in range(0, width, 40):
        for y in range(height):
            picture.putpixel((x, y), (255, 200, 0))
    buffer = BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def upload(user: ApiUser, name: str, content: bytes, content_type: str) -> dict[str, Any]:
    response = user.http.post(
        "/api/v1/uploads",
        files={"file": (name, content, content_type)},
        headers={"X-CSRF-Token": user.csrf_token},
    )
    assert response.status_code == 201, response.text
    return response.json()


def post_with(user: ApiUser, room_id: int, body: str, attachments: list[int]) -> dict[str, Any]:
    response = user.http.post(
        f"/api/v1/rooms/{room_id}/messages",
        json={"body": body, "client_id": f"api-{uuid.uuid4().hex}", "attachments": attachments},
        headers={"X-CSRF-Token": user.csrf_token},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_pictures_keep_their_place_and_open_in_a_lightbox(open_tab, api_user, cast: Cast) -> None:
    trainer: ApiUser = api_user("zhangwei")
    picture = upload(trainer, "营业厅海报.png", png(1200, 800), "image/png")
    sheet = upload(trainer, "资费表.csv", "套餐,月费\nA,15\nB,10\n".encode(), "text/csv")
    post_with(trainer, cast.company_room_id, "", [picture["id"], sheet["id"]])
    assert picture["thumbnail_url"] and picture["thumb_width"] == 400

    li: Tab = open_tab()
    held: list[Route] = []
    li.page.route("**/thumbnail", lambda route: held.append(route))  # not answered yet
    li.enter("lina")
    message = li.messages.last
    img = message.locator(".attachments img")
    expect(img).to_have_attribute("width", "400")
    expect(img).to_have_attribute("height", str(picture["thumb_height"]))
    expect(img).to_have_attribute("alt", "营业厅海报.png")
    assert img.evaluate("(image) => image.naturalWidth") == 0
    reserved = img.bounding_box()
    assert reserved and round(reserved["width"]) == 400 and round(reserved["height"]) == 267
    for route in held:
        route.continue_()
    li.page.unroute("**/thumbnail")
    li.page.wait_for_function(
        "() => document.querySelector('#messages .attachments img').naturalWidth > 0"
    )
    assert img.bounding_box() == reserved, "the timeline jumped when the picture came"

    card = message.locator(".file-card")
    expect(card.locator(".file-name")).to_have_text("资费表.csv")
    expect(card.locator(".file-meta")).to_have_text(re.compile(r"^\d+ B · CSV$"))
    expect(card).to_have_attribute("href", sheet["url"])
    expect(card).to_have_attribute("download", "资费表.csv")
    li.screenshot("rich-attachments.png")

    opener = message.get_by_role("link", name="查看大图 营业厅海报.png")
    opener.click()
    lightbox = li.page.locator("dialog.lightbox")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator("img")).to_have_attribute("src", picture["url"])
    expect(lightbox.get_by_role("button", name="关闭")).to_be_focused()
    li.screenshot("rich-lightbox.png")
    li.page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    expect(opener).to_be_focused()


def open_actions(tab: Tab, message: Any) -> None:
    message.hover()
    message.locator(".actions-toggle").click()
    expect(message.get_by_role("menu")).to_be_visible()


def test_edits_and_deletions_show_live_and_staff_see_history_and_tombstones(
    open_tab, cast: Cast
) -> None:
    trainer: Tab = open_tab()
    trainer.enter("zhangwei")
    li: Tab = open_tab()
    li.enter("lina")
    manager: Tab = open_tab()
    manager.enter("zhaomin")

    trainer.send("今天的资源编码是 `K7Q2`")
    for tab in (trainer, li, manager):
        expect(tab.messages).to_have_count(1)
    mine = trainer.messages.last
    expect(mine).not_to_have_class(re.compile(r"\bpending\b"))
    expect(li.messages.last.locator(".actions-toggle")).to_have_count(0)  # not hers

    toggle = mine.get_by_role("button", name="张伟 的消息的操作")
    toggle.focus()
    trainer.page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(mine.get_by_role("menuitem", name="编辑")).to_be_focused()
    trainer.page.keyboard.press("ArrowDown")
    expect(mine.get_by_role("menuitem", name="标记为问题")).to_be_focused()
    trainer.page.keyboard.press("End")
    expect(mine.get_by_role("menuitem", name="删除")).to_be_focused()
    trainer.page.keyboard.press("Escape")
    expect(mine.get_by_role("menu")).to_have_count(0)
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    open_actions(trainer, mine)
    trainer.screenshot("rich-menu.png")
    mine.get_by_role("menuitem", name="编辑").click()
    editor = mine.get_by_role("textbox", name="编辑消息")
    expect(editor).to_be_focused()
    trainer.screenshot("rich-editing.png")
    expect(editor).to_have_value("今天的资源编码是 `K7Q2`")
    editor.fill("今天的资源编码是 `K7Q3`（更正）")
    editor.press("Enter")
    expect(editor).to_have_count(0)
    expect(mine.locator(".body code")).to_have_text("K7Q3")
    expect(mine.locator(".actions-toggle")).to_be_focused()

    for tab in (li, manager):
        row = tab.messages.last
        expect(row.locator(".body")).to_have_text("今天的资源编码是 K7Q3（更正）")
        expect(row.locator(".edited-mark")).to_have_text("已编辑")
        expect(row.locator(".edited-mark")).to_have_attribute("title", re.compile(r"^编辑于 "))

    staff_row = manager.messages.last
    open_actions(manager, staff_row)
    expect(staff_row.get_by_role("menuitem")).to_have_text(["修改记录"])
    staff_row.get_by_role("menuitem", name="修改记录").click()
    dialog = manager.page.get_by_role("dialog", name="消息修改记录")
    expect(dialog).to_be_visible()
    versions = dialog.locator(".version")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).locator(".version-action")).to_have_text("发布")
    expect(versions.nth(0)).to_contain_text("张伟")
    expect(versions.nth(0)).to_contain_text("IP 127.0.0.1")
    expect(versions.nth(0).locator(".version-body code")).to_have_text("K7Q2")
    expect(versions.nth(1).locator(".version-action")).to_have_text("编辑")
    expect(versions.nth(1).locator(".version-body code")).to_have_text("K7Q3")
    manager.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(staff_row.locator(".actions-toggle")).to_be_focused()

    open_actions(trainer, mine)
    mine.get_by_role("menuitem", name="删除").click()
    confirm = trainer.page.get_by_role("dialog", name="删除这条消息？")
    expect(confirm).to_be_visible()
    trainer.screenshot("rich-delete.png")
    confirm.get_by_role("button", name="删除").click()
    expect(trainer.messages).to_have_count(0)
    expect(li.messages).to_have_count(0)
    expect(manager.messages).to_have_count(1)
    tombstone = manager.messages.last
    expect(tombstone).to_have_class(re.compile(r"\bdeleted\b"))
    expect(tombstone.locator(".deleted-mark")).to_have_text(re.compile(r"^已于 .+ 删除$"))
    expect(tombstone.locator(".edited-mark")).to_have_count(0)
    open_actions(manager, tombstone)
    tombstone.get_by_role("menuitem", name="修改记录").click()
    expect(dialog.locator(".version")).to_have_count(3)
    expect(dialog.locator(".version").nth(2).locator(".version-action")).to_have_text("删除")


def test_edits_and_deletions_made_while_a_tab_was_offline_show_when_it_reconnects(
    open_tab, api_user, cast: Cast
) -> None:
    link: dict[str, Any] = {"down": False, "open": []}

    def route(socket: WebSocketRoute) -> None:
        if link["down"]:
            socket.close(code=1011)
            return
        socket.connect_to_server()
        link["open"].append(socket)

    trainer: ApiUser = api_user("zhangwei")
    kept = trainer.post(cast.company_room_id, "编码 `A1`")
    gone = trainer.post(cast.company_room_id, "发错了")
    wang: Tab = open_tab()
    wang.page.route_web_socket(STREAM, route)
    wang.enter("wangfang")
    expect(wang.messages).to_have_count(2)

    link["down"] = True
    wang.page.context.set_offline(True)
    for socket in link["open"]:
        socket.close(code=1011)
    expect(wang.page.locator("#connection-status")).not_to_have_text("")
    headers = {"X-CSRF-Token": trainer.csrf_token}
    edited = trainer.http.patch(
        f"/api/v1/messages/{kept['id']}", json={"body": "编码 `A7`"}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    deleted = trainer.http.delete(f"/api/v1/messages/{gone['id']}", headers=headers)
    assert deleted.status_code == 204, deleted.text

    link["down"] = False
    wang.page.context.set_offline(False)
    wang.wait_until_connected()
    expect(wang.messages).to_have_count(1)
    expect(wang.messages.last.locator(".body code")).to_have_text("A7")
    expect(wang.messages.last.locator(".edited-mark")).to_be_visible()


PASTE_A_SCREENSHOT = """
async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 960;
  canvas.height = 540;
  const pen = canvas.getContext("2d");
  pen.fillStyle = "#e4eef9";
  pen.fillRect(0, 0, 960, 540);
  pen.fillStyle = "#0b5cad";
  pen.fillRect(40, 40, 880, 90);
  pen.fillStyle = "#b42318";
  pen.fillRect(40, 170, 420, 320);
  const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
  const data = new DataTransfer();
  data.items.add(new File([blob], "资费截图.png", {type: "image/png"}));
  const box = document.getElementById("composer-input");
  box.focus();
  box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
    cancelable: true}));
}
"""
WARNING = "注意：旧资费今天起停用"


def test_a_trainers_rich_message_reaches_a_clerk_live_and_its_edit_shows_with_history(
    open_tab, cast: Cast
) -> None:
    """The issue's scenario: a trainer pastes a picture, writes a coloured warning and a
    resource code; a clerk of another branch sees them live and copies the code; after the
    trainer's edit she sees the edited mark, and a manager reads the history."""
    trainer: Tab = open_tab()
    trainer.enter("zhangwei")
    li: Tab = open_tab(viewport=PHONE)
    li.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=li.server.url)
    li.enter("lina")
    manager: Tab = open_tab()
    manager.enter("zhaomin")

    trainer.page.evaluate(PASTE_A_SCREENSHOT)
    expect(trainer.page.locator(".tray-item.done")).to_have_count(1)
    trainer.composer.fill(f"{{red}}{WARNING}{{/red}}\n新套餐资源编码：`B1E0-O5lS8`，请直接复制。")
    trainer.composer.press("Enter")

    row = li.messages.last
    expect(row.locator(".body .tc-red")).to_have_text(WARNING)
    assert row.locator(".body .tc-red").evaluate("(e) => getComputedStyle(e).color") == (
        "rgb(180, 35, 24)"
    )
    picture = row.locator(".attachments img")
    expect(picture).to_have_attribute("alt", "资费截图.png")
    expect(picture).to_have_attribute("width", "400")
    expect(picture).to_have_attribute("height", "225")
    li.page.wait_for_function(
        "() => document.querySelector('#messages .attachments img')?.naturalWidth > 0"
    )
    box = picture.bounding_box()
    assert box and box["x"] + box["width"] <= PHONE["width"], "the picture fits the phone"
    assert li.horizontal_overflow() == 0
    code = row.locator(".body code")
    expect(code).to_have_attribute("title", CODE_SPELLED)
    row.get_by_role("button", name="复制 B1E0-O5lS8").tap()
    assert clipboard_of(li) == "B1E0-O5lS8"
    code.tap()  # no hover on a phone: a tap shows the spelling
    expect(li.page.get_by_role("tooltip")).to_have_text(CODE_SPELLED)
    trainer.page.locator("#messages").evaluate("(list) => list.focus()")
    li.screenshot("rich-phone.png")

    mine = trainer.messages.last
    open_actions(trainer, mine)
    mine.get_by_role("menuitem", name="编辑").click()
    editor = mine.get_by_role("textbox", name="编辑消息")
    editor.fill(editor.input_value().replace("B1E0-O5lS8", "B1E0-O5lS9"))
    mine.get_by_role("button", name="保存").click()
    expect(row.locator(".body code")).to_have_text("B1E0-O5lS9")
    expect(row.locator(".edited-mark")).to_be_visible()
    expect(row.locator(".attachments img")).to_have_count(1)
    trainer.page.mouse.move(0, 0)
    trainer.screenshot("rich-desktop.png")

    staff_row = manager.messages.last
    expect(staff_row.locator(".edited-mark")).to_be_visible()
    open_actions(manager, staff_row)
    staff_row.get_by_role("menuitem", name="修改记录").click()
    versions = manager.page.get_by_role("dialog", name="消息修改记录").locator(".version")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).locator("code")).to_have_text("B1E0-O5lS8")
    expect(versions.nth(1).locator("code")).to_have_text("B1E0-O5lS9")
    expect(versions.nth(1)).to_contain_text("张伟")
    manager.screenshot("rich-history.png")


def test_an_authors_actions_go_when_the_edit_window_passes(open_tab, cast: Cast) -> None:
    wang: Tab = open_tab()
    wang.page.clock.install()
    wang.enter("wangfang")
    wang.send("马上就不能改了")
    wang.expect_all_sent()
    message = wang.messages.last
    open_actions(wang, message)
    expect(message.get_by_role("menuitem")).to_have_text(["编辑", "标记为问题", "删除"])
    wang.page.keyboard.press("Escape")
    minutes = wang.page.evaluate(
        "JSON.parse(document.getElementById('boot').textContent).edit_window_seconds / 60"
    )
    wang.page.clock.run_for(f"{int(minutes)}:30")
    open_actions(wang, message)  # marking her own question stays; editing and deleting go
    expect(message.get_by_role("menuitem")).to_have_text(["标记为问题"])
