"""Concurrent writers and a reconnecting listener: every message stored once, seen once."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
from sqlalchemy import select

from counterline.messages.models import Message
from counterline.services import Services
from tests.cast import PASSWORD, Cast
from tests.support.clients import open_stream

WRITERS = ["wangfang", "lina", "zhouqiang", "zhangwei"]
PER_WRITER = 250


def write_messages(base_url: str, username: str, room_id: int) -> list[int]:
    """One browser posting PER_WRITER messages, in its own thread, retrying when told to."""
    ids = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        session = http.post("/api/v1/session", json={"username": username, "password": PASSWORD})
        assert session.status_code == 200, session.text
        headers = {"X-CSRF-Token": session.json()["csrf_token"]}
        for number in range(PER_WRITER):
            payload = {"body": f"{username} 第{number}条", "client_id": f"{username}-{number:05}"}
            while True:
                response = http.post(
                    f"/api/v1/rooms/{room_id}/messages", json=payload, headers=headers
                )
                if response.status_code != 429:
                    break
                time.sleep(float(response.headers.get("retry-after", "1")))
            assert response.status_code in (200, 201), response.text
            ids.append(response.json()["id"])
    return ids


async def listen_with_reconnects(
    ws_url: str, cookie: str, writers: asyncio.Future[list[list[int]]]
) -> tuple[list[int], int]:
    """Connect, read for a short random while, disconnect, reconnect from the last id seen;
    once the writers are done, one last connection catches up. Returns ids and rounds."""
    chance = random.Random(1000)
    received: list[int] = []
    rounds = 0
    while True:
        final = writers.done()
        last = max(received, default=0)
        stream = await open_stream(ws_url, cookie=cookie, last_message_id=last)
        rounds += 1
        deadline = time.monotonic() + chance.uniform(0.02, 0.3)
        ready = False
        try:
            while True:
                wait = 10 if final or not ready else deadline - time.monotonic()
                try:
                    frame = await stream.next(timeout=max(wait, 0.001))
                except TimeoutError:
                    break
                if frame["type"] == "message.posted":
                    received.append(frame["message"]["id"])
                elif frame["type"] == "ready":
                    ready = True
                    if final:
                        break
        finally:
            await stream.close()
        if final:
            return received, rounds


async def test_four_writers_store_every_message_once_and_a_reconnecting_listener_sees_each_once(
    login, server, services: Services, cast: Cast
) -> None:
    listener = await login("zhaomin")
    writers = asyncio.ensure_future(
        asyncio.gather(
            *(
                asyncio.to_thread(write_messages, server.url, username, cast.company_room_id)
                for username in WRITERS
            )
        )
    )
    received, rounds = await listen_with_reconnects(server.ws_url, listener.session_cookie, writers)
    posted = [message_id for ids in await writers for message_id in ids]

    async with services.reading() as unit:
        stored = list(await unit.session.scalars(select(Message.id).order_by(Message.id)))
    assert len(stored) == len(WRITERS) * PER_WRITER == 1000
    assert sorted(posted) == stored
    assert len(set(posted)) == 1000
    assert rounds >= 5
    duplicates = len(received) - len(set(received))
    missing = set(stored) - set(received)
    assert duplicates == 0, f"{duplicates} messages delivered twice"
    assert not missing, f"{len(missing)} messages never delivered, e.g. {sorted(missing)[:5]}"
    assert received == sorted(received)
