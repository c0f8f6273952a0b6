"""Who is online: open tabs, the grace period, logout and dead connections."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from typing import Any

import websockets
from websockets.protocol import State

from counterline.db import utcnow
from tests.cast import Cast
from tests.support.clients import Client, Stream, open_stream, presence_changes
from tests.support.waiting import presence_of


async def user_entry(client: Client, user_id: int) -> dict[str, Any]:
    users = (await client.http.get("/api/v1/users")).json()["users"]
    [entry] = [user for user in users if user["id"] == user_id]
    return entry


async def presence_frames_until_pong(stream: Stream) -> list[dict[str, Any]]:
    await stream.socket.send(json.dumps({"type": "ping"}))
    frames = []
    while (frame := await stream.next())["type"] != "pong":
        if frame["type"] == "presence.changed":
            frames.append(frame)
    return frames


def recent(value: str | None) -> bool:
    assert value is not None
    seen = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return utcnow() - timedelta(seconds=30) < seen <= utcnow()


async def test_user_is_online_while_a_tab_is_open_and_offline_after_it_closes(
    login, server, cast: Cast
) -> None:
    wang_id = cast["wangfang"].id
    li = await login("lina")
    wang = await login("wangfang")
    watcher = await open_stream(server.ws_url, cookie=li.session_cookie)
    try:
        ready = await watcher.next("ready")
        assert wang_id not in ready["online_user_ids"]
        assert (await user_entry(li, wang_id))["online"] is False
        tab = await open_stream(server.ws_url, cookie=wang.session_cookie)
        await tab.next("ready")
        arrived = await presence_of(watcher, wang_id)
        assert arrived["online"] is True
        assert (await user_entry(li, wang_id))["online"] is True
        await tab.close()
        left = await presence_of(watcher, wang_id)
    finally:
        await watcher.close()
    assert left["online"] is False
    assert recent(left["last_seen_at"])
    entry = await user_entry(li, wang_id)
    assert entry["online"] is False
    assert recent(entry["last_seen_at"])


async def test_ready_lists_who_is_online(login, server, cast: Cast) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    tab = await open_stream(server.ws_url, cookie=wang.session_cookie)
    try:
        await tab.next("ready")
        watcher = await open_stream(server.ws_url, cookie=li.session_cookie)
        ready = await watcher.next("ready")
        await watcher.close()
    finally:
        await tab.close()
    assert cast["wangfang"].id in ready["online_user_ids"]
    assert cast["lina"].id in ready["online_user_ids"]
    assert cast["zhouqiang"].id not in ready["online_user_ids"]


async def test_closing_one_of_two_tabs_keeps_the_user_online(login, server, cast: Cast) -> None:
    wang_id = cast["wangfang"].id
    li = await login("lina")
    wang = await login("wangfang")
    watcher = await open_stream(server.ws_url, cookie=li.session_cookie)
    tabs = [await open_stream(server.ws_url, cookie=wang.session_cookie) for _ in range(2)]
    try:
        await watcher.next("ready")
        for tab in tabs:
            await tab.next("ready")
        assert (await presence_of(watcher, wang_id))["online"] is True
        await tabs[0].close()
        await asyncio.sleep(server.settings.presence_grace_seconds * 3)
        assert (await user_entry(li, wang_id))["online"] is True
        assert await presence_frames_until_pong(watcher) == []
        await tabs[1].close()
        assert (await presence_of(watcher, wang_id))["online"] is False
    finally:
        await watcher.close()
        for tab in tabs:
            await tab.close()
    assert (await user_entry(li, wang_id))["online"] is False


async def test_reload_within_the_grace_period_does_not_flicker(login, server, cast) -> None:
    wang_id = cast["wangfang"].id
    li = await login("lina")
    wang = await login("wangfang")
    watcher = await open_stream(server.ws_url, cookie=li.session_cookie)
    try:
        await watcher.next("ready")
        tab = await open_stream(server.ws_url, cookie=wang.session_cookie)
        await tab.next("ready")
        assert (await presence_of(watcher, wang_id))["online"] is True
        await tab.close()
        tab = await open_stream(server.ws_url, cookie=wang.session_cookie)
        await tab.next("ready")
        await asyncio.sleep(server.settings.presence_grace_seconds * 2)
        assert await presence_frames_until_pong(watcher) == []
        assert (await user_entry(li, wang_id))["online"] is True
        await tab.close()
    finally:
        await watcher.close()


async def test_logout_takes_the_user_offline_at_once(login, server, cast: Cast) -> None:
    wang_id = cast["wangfang"].id
    li = await login("lina")
    wang = await login("wangfang")
    watcher = await open_stream(server.ws_url, cookie=li.session_cookie)
    tab = await open_stream(server.ws_url, cookie=wang.session_cookie)
    try:
        await watcher.next("ready")
        await tab.next("ready")
        assert (await presence_of(watcher, wang_id))["online"] is True
        response = await wang.http.delete(
            "/api/v1/session", headers={"X-CSRF-Token": wang.csrf_token}
        )
        assert response.status_code == 204
        left = await presence_of(watcher, wang_id)
    finally:
        await watcher.close()
        await tab.close()
    assert left["online"] is False
    assert recent(left["last_seen_at"])
    assert (await user_entry(li, wang_id))["online"] is False


async def keep_pinging(stream: Stream, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await stream.socket.send(json.dumps({"type": "ping"}))


async def test_silent_connection_is_closed_and_the_user_goes_offline_while_a_pinging_one_stays(
    start_server, sign_in, cast: Cast
) -> None:
    live = start_server(heartbeat_timeout_seconds=2)
    wang = await sign_in(live, "wangfang")
    li = await sign_in(live, "lina")
    silent = await websockets.connect(
        f"{live.ws_url}/api/v1/stream",
        additional_headers={"Cookie": f"counterline_session={wang.session_cookie}"},
        ping_interval=None,
    )
    lively = await open_stream(live.ws_url, cookie=li.session_cookie)
    pinger = asyncio.create_task(keep_pinging(lively, every=0.5))
    started = time.monotonic()
    try:
        assert json.loads(await silent.recv())["type"] == "ready"
        await lively.next("ready")
        assert (await user_entry(li, cast["wangfang"].id))["online"] is True
        try:
            while True:
                await asyncio.wait_for(silent.recv(), timeout=15)
        except websockets.exceptions.ConnectionClosed as closed:
            assert closed.rcvd is not None
            assert closed.rcvd.code == 4002
        assert time.monotonic() - started < 10
        deadline = time.monotonic() + 5
        while (entry := await user_entry(li, cast["wangfang"].id))["online"]:
            assert time.monotonic() < deadline, "still online after the heartbeat timeout"
            await asyncio.sleep(0.1)
        assert recent(entry["last_seen_at"])
        await asyncio.sleep(1)
        assert time.monotonic() - started > 3
        assert lively.socket.state is State.OPEN
        assert (await user_entry(li, cast["lina"].id))["online"] is True
    finally:
        pinger.cancel()
        await silent.close()
        await lively.close()


async def test_colleagues_arriving_together_are_all_announced(login, server, cast: Cast) -> None:
    watcher_client = await login("chengang")
    watcher = await open_stream(server.ws_url, cookie=watcher_client.session_cookie)
    arriving = [await login(name) for name in ("wangfang", "lina", "zhouqiang", "zhaomin")]
    await watcher.next("ready")
    streams = await asyncio.gather(
        *(open_stream(server.ws_url, cookie=client.session_cookie) for client in arriving)
    )
    try:
        announced: dict[int, dict[str, Any]] = {}
        while len(announced) < len(arriving):
            frame = await watcher.next("presence.changed")
            announced.update(presence_changes(frame))
            announced.pop(watcher_client.user["id"], None)  # her own arrival
    finally:
        for stream in (watcher, *streams):
            await stream.close()
    assert set(announced) == {client.user["id"] for client in arriving}
    assert all(change["online"] and recent(change["last_seen_at"]) for change in announced.values())
