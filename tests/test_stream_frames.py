"""Whatever a client sends, its socket never dies silently: frames the stream does not speak
get an error frame or a close, and a closed socket leaves /healthz and presence at once."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from tests.cast import Cast
from tests.support.clients import Stream, open_stream
from tests.support.waiting import closed_with, frames_until_pong, presence_of


async def open_connections(base_url: str) -> int:
    async with httpx.AsyncClient(base_url=base_url) as http:
        return (await http.get("/healthz")).json()["connections"]


async def until_connections(base_url: str, expected: int, timeout: float = 3) -> None:
    deadline = time.monotonic() + timeout
    while (count := await open_connections(base_url)) != expected:
        assert time.monotonic() < deadline, f"/healthz counts {count}, not {expected}"
        await asyncio.sleep(0.05)


async def watch_wang_arrive(login, server, cast: Cast) -> tuple[Stream, Stream]:
    """Lina watches presence; Wang opens a stream and is seen online. Returns both."""
    li = await login("lina")
    wang = await login("wangfang")
    watcher = await open_stream(server.ws_url, cookie=li.session_cookie)
    await watcher.next("ready")
    tab = await open_stream(server.ws_url, cookie=wang.session_cookie)
    await tab.next("ready")
    assert (await presence_of(watcher, cast["wangfang"].id))["online"] is True
    return watcher, tab


async def test_a_binary_frame_closes_the_socket_with_1003_and_its_user_goes_offline(
    login, server, cast: Cast
) -> None:
    watcher, tab = await watch_wang_arrive(login, server, cast)
    try:
        await until_connections(server.url, 2)
        await tab.socket.send(b"\x00\x01binary")
        started = time.monotonic()
        assert await closed_with(tab, timeout=3) == 1003
        assert time.monotonic() - started < 1
        await until_connections(server.url, 1)
        grace = server.settings.presence_grace_seconds
        left = await presence_of(watcher, cast["wangfang"].id, timeout=grace + 3)
    finally:
        await watcher.close()
        await tab.close()
    assert left["online"] is False


@pytest.mark.parametrize(
    "junk",
    ["not json", "[1, 2, 3]", '"ping"', "null", "{}", '{"type": "shout"}', '{"type": 7}'],
)
async def test_text_the_stream_does_not_understand_gets_an_error_and_pings_still_work(
    login, server, junk: str
) -> None:
    wang = await login("wangfang")
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie)
    try:
        await stream.next("ready")
        await stream.socket.send(junk)
        complaint = await stream.next("error", timeout=3)
        after = await frames_until_pong(stream)
    finally:
        await stream.close()
    assert complaint["error"]
    assert {frame["type"] for frame in after} <= {"presence.changed"}


async def test_an_oversized_frame_closes_the_socket_instead_of_being_read(login, server) -> None:
    wang = await login("wangfang")
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie)
    try:
        await stream.next("ready")
        await stream.socket.send(json.dumps({"type": "ping", "pad": "x" * 1_000_000}))
        code = await closed_with(stream, timeout=3)
    finally:
        await stream.close()
    assert code == 1009
    await until_connections(server.url, 0)


async def test_a_socket_survives_many_junk_frames_and_still_answers(login, server) -> None:
    wang = await login("wangfang")
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie)
    errors: list[dict[str, Any]] = []
    try:
        await stream.next("ready")
        for number in range(50):
            await stream.socket.send(f"junk {number}")
        while len(errors) < 50:
            frame = await stream.next(timeout=3)
            if frame["type"] == "error":
                errors.append(frame)
        await frames_until_pong(stream)
    finally:
        await stream.close()
    assert len(errors) == 50
