"""A tab whose live connection drops catches up from the database when it comes back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import WebSocketRoute, expect

from tests.browser.conftest import ApiUser, Tab
from tests.cast import Cast

pytestmark = pytest.mark.browser
STREAM = re.compile(r"/api/v1/stream")


def test_tab_cut_off_from_the_stream_shows_missed_messages_once_in_order(
    open_tab, api_user, cast: Cast
) -> None:
    link: dict[str, object] = {"down": False, "open": []}

    def route(socket: WebSocketRoute) -> None:
        if link["down"]:
            socket.close(code=1011)
            return
        socket.connect_to_server()
        link["open"].append(socket)  # type: ignore[union-attr]

    wang: Tab = open_tab()
    wang.page.route_web_socket(STREAM, route)
    wang.enter("wangfang")
    li: ApiUser = api_user("lina")
    li.post(cast.company_room_id, "断线前 1")
    expect(wang.messages).to_have_count(1)
    wang.record_banner()

    link["down"] = True
    # A read mark or badge count still in flight when the network goes fails, as it would.
    wang.expect_console_error("ERR_INTERNET_DISCONNECTED")
    wang.page.context.set_offline(True)
    for socket in link["open"]:  # type: ignore[attr-defined]
        socket.close(code=1011)
    banner = wang.page.get_by_role("status").filter(has_text=wang.string("reconnecting"))
    expect(banner).to_be_visible()
    missed = [f"断线期间 {number}" for number in range(1, 6)]
    for body in missed:
        li.post(cast.company_room_id, body)
    wang.page.wait_for_timeout(300)
    expect(wang.messages).to_have_count(1)

    link["down"] = False
    wang.page.context.set_offline(False)
    wang.wait_until_connected()
    li.post(cast.company_room_id, "恢复后 1")
    expect(wang.messages).to_have_count(7)
    assert wang.message_bodies() == ["断线前 1", *missed, "恢复后 1"]
    assert wang.string("reconnecting") in wang.banner_history()
    expect(wang.page.locator("#connection-status")).to_have_text("", timeout=5000)


def test_tab_catches_up_after_a_server_restart(open_tab, api_user, server, cast: Cast) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    api_user("lina").post(cast.company_room_id, "重启前")
    expect(wang.messages).to_have_count(1)
    wang.record_banner()
    # A reconnect attempt that lands while the server is down is refused; Chromium logs it.
    wang.expect_console_error(r"WebSocket connection to .*/api/v1/stream.* failed")

    server.restart()
    li: ApiUser = api_user("lina")
    after = [f"重启后 {number}" for number in range(1, 4)]
    for body in after:
        li.post(cast.company_room_id, body)

    expect(wang.messages).to_have_count(4, timeout=10000)
    wang.wait_until_connected()
    assert wang.message_bodies() == ["重启前", *after]
    assert wang.string("reconnecting") in wang.banner_history()
