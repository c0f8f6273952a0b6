"""Past capacity the server refuses posts explicitly; it never drops one silently."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time

import websockets
from sqlalchemy import select

from counterline.messages.models import Message
from counterline.realtime.hub import CLOSE_SLOW_CONSUMER
from counterline.services import Services
from counterline.streams.endpoint import CLOSE_TIMEOUT_SECONDS
from tests.cast import Cast
from tests.support.clients import Client, Stream, message_ids, open_stream, post
from tests.support.rows import count_rows
from tests.support.waiting import frames_until_ready


async def message_ids_until_closed(stream: Stream) -> tuple[list[int], int | None]:
    ids = []
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(stream.socket.recv(), 10))
            if frame["type"] == "message.posted":
                ids.append(frame["message"]["id"])
    except websockets.exceptions.ConnectionClosed as closed:
        return ids, closed.rcvd.code if closed.rcvd else None


async def test_saturated_server_answers_429_with_retry_after_and_stores_nothing(
    start_server, sign_in, services: Services, cast: Cast
) -> None:
    server = start_server(max_queued_writes=0)
    wang: Client = await sign_in(server, "wangfang")
    refused = await wang.post_message(cast.company_room_id, "忙", "overload-0001")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]
    assert await count_rows(services, Message) == 0


async def test_every_post_under_a_burst_is_either_stored_or_refused_never_lost(
    start_server, sign_in, services: Services, cast: Cast
) -> None:
    server = start_server(max_queued_writes=2)
    clients = [await sign_in(server, name) for name in ("wangfang", "lina", "zhouqiang")]
    posts = [(clients[n % 3], f"burst {n}", f"burst-{n:04d}") for n in range(45)]
    answers = await asyncio.gather(
        *(client.post_message(cast.company_room_id, body, cid) for client, body, cid in posts)
    )
    assert {answer.status_code for answer in answers} <= {201, 429}
    refused = [
        sent for sent, answer in zip(posts, answers, strict=True) if answer.status_code == 429
    ]
    assert refused, "45 posts at once past a queue of 2: some must be refused"
    assert all(
        answer.headers["retry-after"] == "1" for answer in answers if answer.status_code == 429
    )
    stored = {answer.json()["client_id"] for answer in answers if answer.status_code == 201}
    async with services.reading() as unit:
        in_database = list(await unit.session.scalars(select(Message.client_id)))
    assert sorted(in_database) == sorted(stored)

    # The browser retries a refused post with the same client id: then every post is stored once.
    for client, body, client_id in refused:
        while (
            answer := await client.post_message(cast.company_room_id, body, client_id)
        ).status_code == 429:
            await asyncio.sleep(0.05)
        assert answer.status_code == 201, answer.text
    async with services.reading() as unit:
        in_database = list(await unit.session.scalars(select(Message.client_id)))
    assert sorted(in_database) == [client_id for _, _, client_id in posts]


async def test_a_clerk_whose_tab_stops_reading_is_cut_off_and_catches_up_exactly(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    stalled_socket = socket.socket()
    stalled_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled_socket.connect(("127.0.0.1", server.port))
    stalled = Stream(
        await websockets.connect(
            f"{server.ws_url}/api/v1/stream",
            sock=stalled_socket,
            additional_headers={"Cookie": f"counterline_session={li.session_cookie}"},
            max_queue=1,  # the client stops reading from the socket: a frozen tab
        )
    )
    await stalled.next("ready")
    long_body = "通知正文" * 2_400
    posted = [
        await post(wang, cast.company_room_id, f"{n} {long_body}", f"flood-{n:04d}")
        for n in range(160)
    ]

    received, code = await message_ids_until_closed(stalled)
    assert code == CLOSE_SLOW_CONSUMER
    assert received == posted[: len(received)]
    assert len(received) < len(posted)

    again = await open_stream(server.ws_url, cookie=li.session_cookie, last_message_id=received[-1])
    try:
        replayed, _ready = await frames_until_ready(again)
    finally:
        await again.close()
    assert received + message_ids(replayed) == posted


def open_frozen_tab(port: int, cookie: str) -> socket.socket:
    """A WebSocket handshake on a raw socket that then never reads another byte."""
    frozen = socket.socket()
    frozen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    frozen.connect(("127.0.0.1", port))
    frozen.sendall(
        (
            "GET /api/v1/stream HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            f"Cookie: counterline_session={cookie}\r\n\r\n"
        ).encode()
    )
    assert frozen.recv(12) == b"HTTP/1.1 101"
    return frozen


async def test_a_tab_that_reads_nothing_at_all_is_dropped_not_waited_for(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    frozen = open_frozen_tab(server.port, li.session_cookie)
    try:
        long_body = "通知正文" * 2_400
        for n in range(160):
            await post(wang, cast.company_room_id, f"{n} {long_body}", f"frozen-{n:04d}")
        port = frozen.getsockname()[1]
        deadline = time.monotonic() + CLOSE_TIMEOUT_SECONDS + 5
        while server.holds_connection_from(port):
            assert time.monotonic() < deadline, "the server still waits on a tab that reads nothing"
            await asyncio.sleep(0.2)
    finally:
        frozen.close()
