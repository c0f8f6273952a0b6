"""A tab whose network is cut (nothing closed, just silence) notices within seconds, says so,
and catches up once the network is back."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from counterline.deps import SESSION_COOKIE
from tests.browser.conftest import ApiUser, Tab
from tests.browser.seeding import open_session
from tests.cast import Cast
from tests.support.live import LiveServer
from tests.support.proxy import Proxy

pytestmark = pytest.mark.browser
PING_SECONDS = 1.0
PONG_TIMEOUT_SECONDS = 1.0


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(
        client_ping_seconds=PING_SECONDS, client_pong_timeout_seconds=PONG_TIMEOUT_SECONDS
    )


@pytest.fixture
def proxy(server: LiveServer) -> Iterator[Proxy]:
    proxy = Proxy(server.port).start()
    yield proxy
    proxy.stop()


def enter_through(tab: Tab, proxy: Proxy, username: str) -> None:
    """Arrive logged in at the app through the proxy: page, scripts and stream all cross it."""
    token, _ = open_session(tab.server.settings, username)
    tab.page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": proxy.url}])
    tab.page.goto(proxy.url + "/")
    tab.page.wait_for_url(re.compile(r"/rooms/\d+$"))
    tab.wait_until_connected()


def test_a_cut_network_shows_the_banner_within_seconds_and_the_tab_catches_up_once(
    open_tab, api_user, proxy: Proxy, cast: Cast
) -> None:
    wang: Tab = open_tab()
    enter_through(wang, proxy, "wangfang")
    li: ApiUser = api_user("lina")
    li.post(cast.company_room_id, "断网前")
    expect(wang.messages).to_have_count(1)
    wang.record_banner()
    # Handshakes the cut network swallows are abandoned; Chromium logs each one.
    wang.expect_console_error(r"WebSocket connection to .*/api/v1/stream.* failed")

    proxy.cut()
    cut_at = time.monotonic()
    li.post(cast.company_room_id, "断网期间")
    banner = wang.page.get_by_role("status").filter(has_text=wang.string("reconnecting"))
    expect(banner).to_be_visible(timeout=5000)
    noticed_after = time.monotonic() - cut_at
    expect(wang.messages).to_have_count(1)

    proxy.restore()
    wang.wait_until_connected()
    li.post(cast.company_room_id, "恢复后")
    expect(wang.messages).to_have_count(3)
    assert wang.message_bodies() == ["断网前", "断网期间", "恢复后"]
    expect(wang.page.locator("#connection-status")).to_have_text("", timeout=5000)
    assert noticed_after < PING_SECONDS + PONG_TIMEOUT_SECONDS + 2, noticed_after
