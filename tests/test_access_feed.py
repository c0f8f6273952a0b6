"""Whatever changes what someone may read reaches their open streams within seconds:
the CLI, the API or another node, through the access-change feed every node follows."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from counterline.streams.follower import GAP_SECONDS, FeedCursor
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.cli import run_cli
from tests.support.clients import Client, Stream, open_stream
from tests.support.waiting import closed_with

CLOSE_SESSION_ENDED = 4001


async def ready_stream(ws_url: str, **credentials: str) -> Stream:
    stream = await open_stream(ws_url, **credentials)
    await stream.next("ready")
    return stream


async def test_clerk_moved_by_the_cli_stops_receiving_her_old_branch_room_within_seconds(
    server, login, cast: Cast, database_url: str, tmp_path: Path
) -> None:
    wang = await login("wangfang")
    manager = await login("zhaomin")
    lina = await login("lina")
    old_room, new_room = cast.branch_room_ids[CHENGBEI], cast.branch_room_ids[HUAQIAO]
    stream = await ready_stream(server.ws_url, cookie=wang.session_cookie)

    started = time.monotonic()
    await run_cli(database_url, tmp_path, "user", "move", "wangfang", "--branch", HUAQIAO)
    left = await stream.next("room.left", timeout=5)
    joined = await stream.next("room.joined", timeout=5)
    assert left["room_id"] == old_room
    assert joined["room"]["id"] == new_room
    assert time.monotonic() - started < 5

    old = await manager.post_message(old_room, "城北内部：明早盘点", "feed-old-room-1")
    new = await lina.post_message(new_room, "欢迎王芳来花桥", "feed-new-room-1")
    assert old.status_code == new.status_code == 201
    first = await stream.next("message.posted")
    assert first["message"]["body"] == "欢迎王芳来花桥"


async def test_manager_demoted_by_the_cli_stops_seeing_client_addresses_on_her_open_tab(
    server, login, cast: Cast, database_url: str, tmp_path: Path
) -> None:
    manager = await login("zhaomin")
    wang = await login("wangfang")
    room = cast.branch_room_ids[CHENGBEI]
    stream = await ready_stream(server.ws_url, cookie=manager.session_cookie)
    await wang.post_message(room, "请核对 B1E-0D7", "feed-role-before")
    assert (await stream.next("message.posted"))["message"]["client_ip"] == "127.0.0.1"

    await run_cli(database_url, tmp_path, "user", "role", "zhaomin", "clerk")
    deadline = time.monotonic() + 5
    for attempt in range(50):
        await wang.post_message(room, f"第 {attempt} 条", f"feed-role-after-{attempt}")
        frame = await stream.next("message.posted")
        if "client_ip" not in frame["message"]:
            break
        assert time.monotonic() < deadline, "the demoted manager still sees addresses"
        await asyncio.sleep(0.2)
    assert "client_ip" not in frame["message"]


async def test_deactivated_clerk_is_cut_off_everywhere_and_her_token_stops_working(
    server, login, database_url: str, tmp_path: Path
) -> None:
    wang = await login("wangfang")
    token = (await run_cli(database_url, tmp_path, "token", "create", "wangfang")).strip()
    by_session = await ready_stream(server.ws_url, cookie=wang.session_cookie)
    by_token = await ready_stream(server.ws_url, token=token)

    await run_cli(database_url, tmp_path, "user", "deactivate", "wangfang")
    codes = await asyncio.gather(closed_with(by_session), closed_with(by_token))
    assert codes == [CLOSE_SESSION_ENDED, CLOSE_SESSION_ENDED]
    assert (await wang.http.get("/api/v1/session")).status_code == 401
    with_token = await wang.http.get("/api/v1/rooms", headers={"Authorization": f"Bearer {token}"})
    assert with_token.status_code == 401
    assert "wangfang" not in (await run_cli(database_url, tmp_path, "token", "list"))


async def test_clerk_revokes_her_api_token_and_the_stream_opened_with_it_closes(
    server, login, database_url: str, tmp_path: Path
) -> None:
    wang = await login("wangfang")
    lina = await login("lina")
    await run_cli(database_url, tmp_path, "token", "create", "lina", "--label", "李娜的脚本")
    token = (
        await run_cli(database_url, tmp_path, "token", "create", "wangfang", "--label", "报表")
    ).strip()
    stream = await ready_stream(server.ws_url, token=token)
    listed = (await wang.http.get("/api/v1/account/tokens")).json()["tokens"]
    assert [entry["label"] for entry in listed] == ["报表"]
    others = (await lina.http.get("/api/v1/account/tokens")).json()["tokens"]

    headers = {"X-CSRF-Token": wang.csrf_token}
    not_hers = await wang.http.delete(f"/api/v1/account/tokens/{others[0]['id']}", headers=headers)
    assert not_hers.status_code == 404
    revoked = await wang.http.delete(f"/api/v1/account/tokens/{listed[0]['id']}", headers=headers)
    assert revoked.status_code == 204
    assert await closed_with(stream) == CLOSE_SESSION_ENDED
    assert (await wang.http.get("/api/v1/account/tokens")).json()["tokens"] == []
    still_there = await lina.http.get("/api/v1/account/tokens")
    assert [entry["label"] for entry in still_there.json()["tokens"]] == ["李娜的脚本"]


async def test_logout_through_another_process_closes_the_tab_of_that_session(
    server, start_server, login, sign_in
) -> None:
    """Two processes on one database and no Redis: the feed carries the logout."""
    other = start_server()
    wang = await login("wangfang")
    stream = await ready_stream(server.ws_url, cookie=wang.session_cookie)
    elsewhere = Client(other.url)
    elsewhere.http.cookies.set("counterline_session", wang.session_cookie)
    try:
        logged_out = await elsewhere.http.delete(
            "/api/v1/session", headers={"X-CSRF-Token": wang.csrf_token}
        )
        assert logged_out.status_code == 204
        assert await closed_with(stream) == CLOSE_SESSION_ENDED
    finally:
        await elsewhere.close()


def test_a_change_that_commits_after_a_later_one_is_still_taken_once() -> None:
    cursor = FeedCursor(after=10)
    assert cursor.take([11, 13], now=0.0) == [11, 13]
    assert cursor.gaps == {12: 0.0}
    assert cursor.take([12, 13, 14], now=1.0) == [12, 14]
    assert cursor.take([12, 14], now=2.0) == []
    assert cursor.take([17], now=3.0) == [17]
    assert cursor.take([], now=3.0 + GAP_SECONDS) == []
    assert cursor.gaps == {}
