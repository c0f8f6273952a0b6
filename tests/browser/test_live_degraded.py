"""When Redis (live fan-out between servers) goes away, the tab says so and loses nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ApiUser, Tab
from tests.cast import Cast
from tests.support.live import LiveServer
from tests.support.nodes import RedisServer

pytestmark = pytest.mark.browser


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def server(start_server: Callable[..., LiveServer], redis: RedisServer) -> LiveServer:
    return start_server(redis_url=redis.url)


def test_tab_says_live_updates_are_degraded_while_redis_is_down_and_misses_nothing(
    open_tab, api_user, redis: RedisServer, cast: Cast
) -> None:
    wang: Tab = open_tab()
    wang.enter("wangfang")
    li: ApiUser = api_user("lina")
    li.post(cast.company_room_id, "Redis 停止前")
    expect(wang.messages).to_have_count(1)
    notice = wang.page.locator("#live-status")
    expect(notice).to_have_text("")

    redis.stop()
    expect(notice).to_have_text(wang.string("live_degraded"), timeout=10_000)
    li.post(cast.company_room_id, "Redis 停止期间")
    expect(wang.messages).to_have_count(2)

    redis.start()
    expect(notice).to_have_text("", timeout=10_000)
    li.post(cast.company_room_id, "Redis 恢复后")
    expect(wang.messages).to_have_count(3)
    assert wang.message_bodies() == ["Redis 停止前", "Redis 停止期间", "Redis 恢复后"]
