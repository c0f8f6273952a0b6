"""Rows are keyed by the server's message id: nobody can hide or replace another's message,
and the sender's "sending" copy becomes the stored message exactly once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Request, Route, expect

from tests.browser.conftest import ApiUser, Tab
from tests.cast import Cast

pytestmark = pytest.mark.browser
PENDING = re.compile(r"\bpending\b")
# The most rows with this text the list ever held (a duplicate, even for a moment, shows).
COUNT_ROWS_WITH = """(text) => {
  const list = document.getElementById("messages");
  const count = () => [...list.querySelectorAll(".body")]
    .filter((body) => body.textContent.trim() === text).length;
  window.__mostRows = count();
  new MutationObserver(() => { window.__mostRows = Math.max(window.__mostRows, count()); })
    .observe(list, {childList: true, subtree: true, characterData: true});
}"""


def authors_and_bodies(tab: Tab) -> list[tuple[str, str]]:
    authors = tab.page.locator("#messages .author").all_inner_texts()
    return list(zip(authors, tab.message_bodies(), strict=True))


def test_a_member_reusing_anothers_client_id_neither_hides_nor_replaces_her_message(
    open_tab, api_user, cast: Cast
) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    zhou: Tab = open_tab()
    zhou.enter("zhouqiang")
    sent: list[str] = []

    def note_client_id(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/messages"):
            sent.append(request.post_data_json["client_id"])

    wang.page.on("request", note_client_id)
    wang.send("王芳的原话")
    expect(zhou.messages).to_have_count(1)
    expect(wang.messages).not_to_have_class(PENDING)

    li: ApiUser = api_user("lina")
    reused = li.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        json={"body": "冒名顶替", "client_id": sent[0]},
        headers={"X-CSRF-Token": li.csrf_token},
    )
    assert reused.status_code == 201, reused.text
    both = [("王芳", "王芳的原话"), ("李娜", "冒名顶替")]
    for tab in (zhou, wang):
        expect(tab.messages).to_have_count(2)
        assert authors_and_bodies(tab) == both
        tab.page.reload()
        tab.wait_until_connected()
        expect(tab.messages).to_have_count(2)
        assert authors_and_bodies(tab) == both


def test_the_sending_copy_becomes_the_stored_message_once_when_the_event_comes_first(
    open_tab, api_user, cast: Cast
) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    other_tab: Tab = open_tab(beside=wang)
    other_tab.goto(f"/rooms/{cast.company_room_id}")
    other_tab.wait_until_connected()
    answers: list[tuple[Route, object]] = []
    # The server stores the post at once; its answer reaches the page only when released.
    wang.page.route(
        re.compile(rf"/api/v1/rooms/{cast.company_room_id}/messages$"),
        lambda route: answers.append((route, route.fetch())),
    )
    wang.page.evaluate(COUNT_ROWS_WITH, "先到的实时消息")

    wang.send("先到的实时消息")
    expect(other_tab.messages.filter(has_text="先到的实时消息")).to_have_count(1)
    # A later message on the same stream: once it shows, the earlier event was handled too.
    api_user("lina").post(cast.company_room_id, "后来的")
    expect(wang.messages.filter(has_text="后来的")).to_have_count(1)
    mine = wang.messages.filter(has_text="先到的实时消息")
    expect(mine).to_have_count(1)

    route, answer = answers[0]
    route.fulfill(response=answer)  # type: ignore[arg-type]
    expect(mine).not_to_have_class(PENDING)
    assert wang.message_bodies() == ["先到的实时消息", "后来的"]
    assert other_tab.message_bodies() == ["先到的实时消息", "后来的"]
    assert wang.page.evaluate("window.__mostRows") == 1
