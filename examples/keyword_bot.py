"""A Counterline bot that answers keywords in its rooms.

It needs only httpx and websockets (``pip install httpx websockets``) and a bot token: an
administrator makes the bot and gets its token once (docs/api.md, "Bots")::

    curl -X POST https://chat.example/api/v1/admin/bots \\
         -H "Authorization: Bearer $ADMIN_TOKEN" -H "Content-Type: application/json" \\
         -d '{"username": "zifei-bot", "display_name": "资费助手", "room_ids": [3]}'

Then run it where it can reach the server::

    COUNTERLINE_URL=https://chat.example COUNTERLINE_TOKEN=cl_... python keyword_bot.py

How it works: it opens the stream (``/api/v1/stream``) with its token, like any client. For
every ``message.posted`` frame of someone else that starts with a keyword of ``ANSWERS``, it
posts the answer into the same room. The answer's ``client_id`` is derived from the message
it answers (a UUID made from the message id): the server stores one message per author and
client id, so if the bot answers twice (after a reconnect replayed the message, or a retry
after a timeout), the room still shows one answer. It reconnects with ``last_message_id``,
so it misses nothing while away, and pings every 20 s, as the stream asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import websockets

log = logging.getLogger("keyword_bot")

ANSWERS: dict[str, str] = {
    "资费": "资费标准请看公司门户的“资费查询”，或拨打内线 8001。",
    "营业时间": "营业时间：周一至周六 8:30–17:30。",
}
# The client ids of answers: one UUID per answered message id.
ANSWER_NAMESPACE = uuid.UUID("6f1d5d36-4f8e-4c59-9a55-3c1f5b0b2a41")
PING_SECONDS = 20


def answer_for(text: str, answers: Mapping[str, str]) -> str | None:
    """The answer to a message starting with a keyword (the longest keyword wins)."""
    text = text.strip()
    matches = [keyword for keyword in answers if text.startswith(keyword)]
    return answers[max(matches, key=len)] if matches else None


class KeywordBot:
    def __init__(self, base_url: str, token: str, answers: Mapping[str, str] = ANSWERS) -> None:
        self.base_url = base_url.rstrip("/")
        self.answers = dict(answers)
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
        self.http = httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=20)
        self.user_id: int | None = None
        self.last_message_id: int | None = None
        self.listening = asyncio.Event()  # set once the stream has caught up

    async def run(self) -> None:
        """Answer until cancelled, reconnecting after a lost stream."""
        me = await self.http.get("/api/v1/session")
        me.raise_for_status()
        self.user_id = me.json()["user"]["id"]
        try:
            while True:
                try:
                    await self.listen()
                except (OSError, websockets.ConnectionClosed) as error:
                    log.warning("stream lost (%s); reconnecting", error)
                await asyncio.sleep(2)
        finally:
            await self.http.aclose()

    async def listen(self) -> None:
        ws_url = self.base_url.replace("http", "ws", 1) + "/api/v1/stream"
        if self.last_message_id is not None:
            ws_url += f"?last_message_id={self.last_message_id}"
        async with websockets.connect(ws_url, additional_headers=self.headers) as socket:
            pinger = asyncio.create_task(self.ping(socket))
            try:
                async for raw in socket:
                    await self.handle(json.loads(raw))
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger

    async def ping(self, socket: Any) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            await socket.send(json.dumps({"type": "ping"}))

    async def handle(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "ready":
            self.last_message_id = frame.get("last_message_id") or self.last_message_id
            self.listening.set()
            log.info("listening")
        if frame.get("type") != "message.posted":
            return
        message = frame["message"]
        self.last_message_id = max(self.last_message_id or 0, message["id"])
        if message["author"]["id"] == self.user_id:
            return  # never answer ourselves
        answer = answer_for(message["body"], self.answers)
        if answer is not None:
            await self.post(message["room_id"], answer, in_reply_to=message["id"])

    async def post(self, room_id: int, body: str, *, in_reply_to: int) -> None:
        client_id = str(uuid.uuid5(ANSWER_NAMESPACE, str(in_reply_to)))
        for attempt in range(5):
            response = await self.http.post(
                f"/api/v1/rooms/{room_id}/messages", json={"body": body, "client_id": client_id}
            )
            if response.status_code < 300:
                return
            if response.status_code not in (429, 503):
                log.warning("could not answer: %s %s", response.status_code, response.text)
                return
            await asyncio.sleep(float(response.headers.get("Retry-After", 2**attempt)))


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    bot = KeywordBot(os.environ["COUNTERLINE_URL"], os.environ["COUNTERLINE_TOKEN"])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(bot.run())


if __name__ == "__main__":
    main()
