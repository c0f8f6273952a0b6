"""Talking to a live server as the cast: HTTP sessions and WebSocket streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from tests.cast import PASSWORD


class Client:
    """A logged-in HTTP client (session cookie + CSRF token), like one browser: its
    requests say Accept-Language: zh-CN, as the site's pages do (the API answers in it)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=20, headers={"Accept-Language": "zh-CN"}
        )
        self.csrf_token = ""
        self.user: dict[str, Any] = {}

    async def log_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.http.post(
            "/api/v1/session", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            self.csrf_token = response.json()["csrf_token"]
            self.user = response.json()["user"]
        return response

    @property
    def session_cookie(self) -> str:
        return self.http.cookies.get("counterline_session") or ""

    async def post_message(self, room_id: int, body: str, client_id: str) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/rooms/{room_id}/messages",
            json={"body": body, "client_id": client_id},
            headers={"X-CSRF-Token": self.csrf_token},
        )

    async def close(self) -> None:
        await self.http.aclose()


class Stream:
    """A WebSocket on /api/v1/stream that collects the frames it receives."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self.frames: list[dict[str, Any]] = []

    async def next(self, kind: str | None = None, timeout: float = 5) -> dict[str, Any]:
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            self.frames.append(frame)
            if kind is None or frame["type"] == kind:
                return frame

    async def close(self) -> None:
        await self.socket.close()


async def open_stream(
    ws_url: str,
    *,
    cookie: str | None = None,
    token: str | None = None,
    last_message_id: int | None = None,
    origin: str | None = None,
) -> Stream:
    headers = {}
    if cookie:
        headers["Cookie"] = f"counterline_session={cookie}"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    query = "" if last_message_id is None else f"?last_message_id={last_message_id}"
    socket = await websockets.connect(
        f"{ws_url}/api/v1/stream{query}",
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
        open_timeout=30,  # a loaded CI machine (two test workers) may be slow to answer
    )
    return Stream(socket)


def presence_changes(frame: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Per user, what a ``presence.changed`` frame says: ``online`` and ``last_seen_at``."""
    return {
        user_id: {"user_id": user_id, "online": online, "last_seen_at": frame["last_seen_at"]}
        for online, key in ((True, "online"), (False, "offline"))
        for user_id in frame[key]
    }


async def post(client: Client, room_id: int, body: str, client_id: str) -> int:
    """Post a message that must be accepted; its id."""
    response = await client.post_message(room_id, body, client_id)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def message_ids(frames: list[dict[str, Any]]) -> list[int]:
    """The ids of the messages among ``frames``, in order."""
    return [f["message"]["id"] for f in frames if f["type"] == "message.posted"]
