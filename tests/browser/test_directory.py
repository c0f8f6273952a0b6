"""The room page without the staff directory in it: its scripts ask GET /api/v1/users once per
load, and the next page revalidates it (304); the people panel, presence, "leave a message"
and the mentions autocomplete work from it as they did from the embedded copy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.cast import Cast
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """A reload within the grace period is no presence change (5 s, the default)."""
    return start_server(presence_grace_seconds=5.0)


def wait_until_listed_online(tab: Tab, username: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        users = tab.page.request.get(f"{tab.server.url}/api/v1/users").json()["users"]
        if any(user["username"] == username and user["online"] for user in users):
            return
        time.sleep(0.1)
    raise AssertionError(f"{username} is not listed online")


def directory_answers(tab: Tab) -> Callable[[], list[int]]:
    """The status each of the tab's directory requests got on the wire, in the order they
    were sent (a 304 reaches the page's script as the cached 200: the protocol's raw answer
    tells them apart; it may be reported before the request it answers)."""
    cdp = tab.page.context.new_cdp_session(tab.page)
    cdp.send("Network.enable")
    sent: list[str] = []
    raw: dict[str, int] = {}

    def asked(event: dict[str, Any]) -> None:
        if event["request"]["url"].endswith("/api/v1/users"):
            sent.append(event["requestId"])

    def answered(event: dict[str, Any]) -> None:
        raw[event["requestId"]] = event["statusCode"]

    cdp.on("Network.requestWillBeSent", asked)
    cdp.on("Network.responseReceivedExtraInfo", answered)
    return lambda: [raw[request] for request in sent if request in raw]


def wait_for_answers(tab: Tab, answers: Callable[[], list[int]], count: int) -> list[int]:
    """The answers once ``count`` came (protocol events arrive on their own time)."""
    for _ in range(100):
        if len(answers()) >= count:
            break
        tab.page.wait_for_timeout(50)
    return answers()


def test_the_room_page_fetches_the_directory_once_and_the_next_page_revalidates_it(
    open_tab, cast: Cast
) -> None:
    li: Tab = open_tab()
    answers = directory_answers(li)
    li.enter("lina")
    page = li.page.request.get(f"{li.server.url}/rooms/{cast.company_room_id}")
    assert '"initials"' not in page.text()  # the directory's key: it is not in the HTML
    expect(li.person("王芳")).to_have_attribute("data-online", "false")
    assert wait_for_answers(li, answers, 1) == [200]
    # Her own arrival changes the directory (online, last seen): reloads from then on don't.
    wait_until_listed_online(li, "lina")
    for _ in range(2):
        li.page.reload()
        li.wait_until_connected()
        expect(li.person("王芳")).to_have_attribute("data-online", "false")
    statuses = wait_for_answers(li, answers, 3)
    assert len(statuses) == 3  # one request per page
    assert statuses[-1] == 304


def test_people_presence_and_mentions_work_from_the_fetched_directory(open_tab, cast: Cast) -> None:
    li: Tab = open_tab()
    li.enter("lina")
    wang = li.person("王芳")
    expect(wang).to_have_attribute("data-online", "false")
    expect(wang.locator(".message-person")).to_have_text(li.string("message_leave"))
    expect(li.person("李娜")).to_have_attribute("data-online", "true")

    other: Tab = open_tab()
    other.enter("wangfang")
    expect(wang).to_have_attribute("data-online", "true")
    expect(wang.locator(".message-person")).to_have_text(li.string("message_action"))

    listbox = li.page.locator("#mention-list")
    for typed in ("@wangf", "@王"):
        li.composer.fill("")
        li.composer.press_sequentially(typed)
        expect(listbox.locator("[role=option]").first).to_contain_text("王芳")
    li.composer.press("Enter")
    expect(li.composer).to_have_value("@wangfang ")
