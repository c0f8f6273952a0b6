"""Issue 11 in the browser: what was sent while a clerk was away waits for her, counted, in her
inbox ("给我的"), each item opening at its place; reading clears the counts in all her tabs.
Also: the mentions autocomplete matches pinyin initials, and unread badges, the tab title and
the "new messages" divider follow the server's read positions live."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Tab
from tests.cast import CHENGBEI, PASSWORD, Cast

pytestmark = pytest.mark.browser


def open_conversation(trainer, username: str) -> int:
    response = trainer.http.post(
        "/api/v1/conversations",
        json={"members": [username]},
        headers={"X-CSRF-Token": trainer.csrf_token},
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def test_what_came_while_she_was_away_waits_in_her_inbox_and_reading_clears_every_tab(
    open_tab, api_user, cast: Cast
) -> None:
    wang: Tab = open_tab()
    wang.log_in("wangfang")
    wang.page.locator("#account-menu summary").click()
    wang.page.locator("#logout").click()
    wang.page.wait_for_url(re.compile(r"/login"))

    trainer = api_user("zhangwei")
    dm_room = open_conversation(trainer, "wangfang")
    dm = trainer.post(dm_room, "王芳，明天的培训改到上午十点。")
    company = cast.company_room_id
    mention = trainer.post(company, "@城北营业厅 请今天下班前把新资费单贴到柜台。")

    # She logs in to her branch's room (the company room would be read as soon as shown).
    branch_room = cast.branch_room_ids[CHENGBEI]
    wang.goto(f"/login?next=/rooms/{branch_room}")
    wang.page.locator("#username").fill("wangfang")
    wang.page.locator("#password").fill(PASSWORD)
    wang.page.locator("form[action='/login'] button[type=submit]").click()
    wang.page.wait_for_url(re.compile(rf"/rooms/{branch_room}$"))
    wang.wait_until_connected()
    # Counted and highlighted at login: the room badges, the inbox badge, the away notice.
    expect(wang.page.locator("#inbox-link [data-inbox-count]")).to_have_text("2")
    expect(wang.page.locator(f"[data-unread='{dm_room}']")).to_contain_text("1")
    expect(wang.page.locator(f"[data-unread='{company}']")).to_contain_text("1")
    expect(wang.page.locator("#away-notice")).to_be_visible()
    expect(wang.page.locator("#away-notice a[href='/inbox']")).to_be_visible()

    # A second tab of hers, on her branch room, sees the same counts.
    other: Tab = open_tab(beside=wang)
    other.goto(f"/rooms/{branch_room}")
    other.wait_until_connected()
    expect(other.page.locator(f"[data-unread='{dm_room}']")).to_contain_text("1")
    expect(other.page.locator(f"[data-unread='{company}']")).to_contain_text("1")
    expect(other.page).to_have_title(re.compile(r"^\(2\) "))
    other.screenshot("inbox-room-desktop.png")

    wang.page.locator("#inbox-link").click()
    wang.page.wait_for_url(re.compile(r"/inbox$"))
    items = wang.page.locator("#inbox-list > li")
    expect(items).to_have_count(2)
    # Newest first, each with its room, author, reason and text.
    expect(items.nth(0)).to_contain_text("资费单")
    expect(items.nth(0)).to_contain_text("提及本营业厅")
    expect(items.nth(1)).to_contain_text("培训改到上午十点")
    expect(items.nth(1)).to_contain_text("私信")
    expect(items.nth(1)).to_contain_text("张伟")
    expect(wang.page.locator("#inbox-list > li.unread")).to_have_count(2)
    wang.screenshot("inbox-desktop.png")

    # Each opens at its place; reading it clears the counts in her other tab too.
    items.nth(1).locator("a.inbox-open").click()
    wang.page.wait_for_url(re.compile(rf"/rooms/{dm_room}\?at={dm['id']}$"))
    wang.wait_until_connected()
    expect(wang.page.locator(f"#messages [data-message-id='{dm['id']}']")).to_have_class(
        re.compile(r"\btarget\b")
    )
    expect(other.page.locator(f"[data-unread='{dm_room}']")).to_be_hidden()
    # He is offline: her reply waits for him, and the box says so.
    expect(wang.composer).to_have_attribute("placeholder", re.compile("张伟"))
    expect(other.page).to_have_title(re.compile(r"^\(1\) "))

    wang.goto("/inbox")
    expect(wang.page.locator("#inbox-list > li.unread")).to_have_count(1)
    wang.page.locator("#inbox-unread-only").check()
    expect(items).to_have_count(1)
    items.first.locator("a.inbox-open").click()
    wang.page.wait_for_url(re.compile(rf"/rooms/{company}\?at={mention['id']}$"))
    wang.wait_until_connected()
    expect(wang.page.locator(f"#messages [data-message-id='{mention['id']}']")).to_be_visible()
    expect(other.page.locator(f"[data-unread='{company}']")).to_be_hidden()
    expect(other.page.locator("#inbox-link [data-inbox-count]")).to_be_hidden()
    expect(other.page).not_to_have_title(re.compile(r"^\("))


def test_the_open_inbox_shows_what_arrives_and_what_she_read_elsewhere_without_reloading(
    open_tab, api_user, cast: Cast
) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    wang.goto("/inbox")
    wang.wait_until_connected()
    items = wang.page.locator("#inbox-list > li")
    expect(wang.page.locator("#inbox-status")).to_have_text(wang.string("inbox_empty"))

    trainer = api_user("zhangwei")
    dm_room = open_conversation(trainer, "wangfang")
    dm = trainer.post(dm_room, "王芳，培训资料已经发到共享盘。")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("培训资料")
    expect(wang.page.locator("[data-inbox-count]")).to_have_text("1")

    company = cast.company_room_id
    trainer.post(company, "各位早上好。")  # for everyone, addressed to nobody
    trainer.post(company, "@wangfang 请确认新资费单已张贴。")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("新资费单")
    expect(wang.page.locator("#inbox-list > li.unread")).to_have_count(2)

    # She reads the direct message on another PC: this page follows.
    elsewhere = api_user("wangfang")
    read = elsewhere.http.post(
        f"/api/v1/rooms/{dm_room}/read",
        json={"up_to": dm["id"]},
        headers={"X-CSRF-Token": elsewhere.csrf_token},
    )
    assert read.status_code == 200, read.text
    expect(wang.page.locator("#inbox-list > li.unread")).to_have_count(1)
    expect(wang.page.locator("#inbox-list > li.unread")).to_contain_text("新资费单")
    expect(wang.page.locator("[data-inbox-count]")).to_have_text("1")


def test_typing_pinyin_initials_after_at_offers_the_person_and_inserts_the_mention(
    open_tab, cast: Cast
) -> None:
    li: Tab = open_tab()
    li.enter("lina")
    li.composer.fill("")
    li.composer.press_sequentially("请 @wf")
    listbox = li.page.locator("#mention-list")
    expect(listbox).to_be_visible()
    first = listbox.locator("[role=option]").first
    expect(first).to_contain_text("王芳")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(li.composer).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    li.composer.press("Enter")  # chooses, does not send
    expect(listbox).to_be_hidden()
    expect(li.composer).to_have_value("请 @wangfang ")
    li.composer.press_sequentially("看一下")
    li.composer.press("Enter")
    sent = li.messages.filter(has_text="看一下")
    expect(sent.locator(".mention")).to_have_count(1)
    expect(sent.locator(".mention")).to_contain_text("王芳")


def test_badges_and_title_count_live_and_the_divider_marks_the_first_unread(
    open_tab, api_user, cast: Cast
) -> None:
    wang: Tab = open_tab(viewport=PHONE)
    wang.enter("wangfang")
    branch = cast.branch_room_ids[CHENGBEI]
    manager = api_user("zhaomin")
    manager.post(branch, "早上好，今天盘点。")
    total = wang.page.locator("#rooms-toggle [data-unread-total]")
    expect(total).to_contain_text("1")
    wang.goto(f"/rooms/{branch}")
    wang.wait_until_connected()
    expect(wang.page.locator(".message.first-unread")).to_contain_text("今天盘点")
    expect(wang.page).not_to_have_title(re.compile(r"^\("))  # read as soon as seen

    wang.goto(f"/rooms/{cast.company_room_id}")
    wang.wait_until_connected()
    manager.post(branch, "盘点表在共享盘。")
    manager.post(branch, "四点前交。")
    expect(total).to_contain_text("2")
    expect(wang.page).to_have_title(re.compile(r"^\(2\) "))
    wang.goto(f"/rooms/{branch}")
    wang.wait_until_connected()
    divider = wang.page.locator(".message.first-unread")
    expect(divider).to_have_count(1)
    expect(divider).to_contain_text("盘点表在共享盘")
    wang.screenshot("inbox-room-phone.png")
    expect(wang.page).not_to_have_title(re.compile(r"^\("))
    # "Mark all as read" from the rooms drawer.
    wang.goto(f"/rooms/{cast.company_room_id}")
    wang.wait_until_connected()
    manager.post(branch, "补充：表格用新版。")
    expect(total).to_contain_text("1")
    wang.page.locator("#rooms-toggle").click()
    wang.page.locator("#mark-all-read").click()
    expect(total).to_be_hidden()
    expect(wang.page.locator(f"[data-unread='{branch}']")).to_be_hidden()
    expect(wang.page).not_to_have_title(re.compile(r"^\("))

    wang.goto("/inbox")
    expect(wang.page.locator("#inbox-status")).to_have_text(
        wang.page.evaluate(
            "JSON.parse(document.getElementById('boot').textContent).strings.inbox_empty"
        )
    )
    assert wang.horizontal_overflow() <= 0
    wang.screenshot("inbox-phone.png")


def test_a_room_that_never_pauses_still_gets_her_read_position_every_few_seconds(
    open_tab, api_user, cast: Cast
) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    branch = cast.branch_room_ids[CHENGBEI]
    wang.goto(f"/rooms/{branch}")
    wang.wait_until_connected()
    manager, herself = api_user("zhaomin"), api_user("wangfang")

    def her_position() -> int:
        rooms = herself.http.get("/api/v1/rooms").json()["rooms"]
        return next(room["last_read_id"] for room in rooms if room["id"] == branch)

    posted, seen_while_posting = [], 0
    for number in range(16):  # one every 0.25 s: never the 0.4 s pause the debounce waits for
        posted.append(manager.post(branch, f"第{number}条，连续发送。")["id"])
        time.sleep(0.25)
        seen_while_posting = her_position()
    # The first mark after opening goes at once; a debounce alone would send no other
    # until the room paused. At most every 2 s, one goes all the same.
    assert seen_while_posting >= posted[4], (seen_while_posting, posted)


RECORD_NOTIFICATIONS = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) { window.__notes.push(`${title}|${options.body}`); }
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
};
"""


def test_notifications_follow_her_level_and_a_muted_room_only_for_mentions_of_her(
    open_tab, api_user, cast: Cast
) -> None:
    trainer = api_user("zhangwei")
    dm_room = open_conversation(trainer, "wangfang")
    company, branch = cast.company_room_id, cast.branch_room_ids[CHENGBEI]
    wang: Tab = open_tab()
    wang.page.add_init_script(RECORD_NOTIFICATIONS)
    wang.enter("wangfang", f"/rooms/{company}")
    mute = wang.page.locator("#mute-toggle")
    expect(mute).to_have_attribute("aria-pressed", "false")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    wang.goto(f"/rooms/{branch}")
    wang.wait_until_connected()
    expect(wang.page.locator(f"[data-room-link='{company}']")).to_have_attribute(
        "data-muted", "true"
    )

    trainer.post(company, "@all 下午三点开会。")  # muted room: not for @all
    trainer.post(company, "@wangfang 请回个电话。")  # muted room: a mention of her still
    api_user("zhaomin").post(branch, "盘点开始。")  # the room she is reading
    trainer.post(dm_room, "收到请回复。")  # level "mentions": direct messages too
    expect(wang.messages.filter(has_text="盘点开始")).to_have_count(1)
    notes: list[str] = []
    for _ in range(50):  # (wait_for_function would evaluate a string: CSP forbids it)
        notes = wang.page.evaluate("window.__notes")
        if len(notes) >= 2:
            break
        wang.page.wait_for_timeout(100)
    wang.page.wait_for_timeout(300)
    notes = wang.page.evaluate("window.__notes")
    assert notes == ["张伟 · 全公司|@wangfang 请回个电话。", "张伟 · 张伟|收到请回复。"]
