"""Waiting in tests: for a condition, for frames on a stream, for a socket to be closed."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import websockets

from tests.support.clients import Stream, presence_changes


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float,
    what: str,
    *,
    every: float = 0.1,
) -> None:
    """Poll ``condition`` (plain or async) until it holds; fail saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


async def messages_until(stream: Stream, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The next ``count`` messages posted on ``stream`` (other frames are skipped)."""
    received = []
    deadline = time.monotonic() + timeout
    while len(received) < count:
        frame = await stream.next(timeout=max(0.1, deadline - time.monotonic()))
        if frame["type"] == "message.posted":
            received.append(frame["message"])
    return received


async def closed_with(stream: Stream, timeout: float = 5) -> int | None:
    """Read until the server closes the socket; the close code it sent (None if it sent none)."""
    try:
        while True:
            await asyncio.wait_for(stream.socket.recv(), timeout)
    except websockets.exceptions.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def frames_until_pong(stream: Stream) -> list[dict[str, Any]]:
    """Everything the server sends before it answers a ping (frames arrive in order)."""
    await stream.socket.send(json.dumps({"type": "ping"}))
    frames = []
    while (frame := await stream.next())["type"] != "pong":
        frames.append(frame)
    return frames


async def frames_until_ready(stream: Stream) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The frames replayed before ``ready``, and ``ready`` itself."""
    frames = []
    while (frame := await stream.next())["type"] != "ready":
        frames.append(frame)
    return frames, frame


async def presence_of(stream: Stream, user_id: int, timeout: float = 5) -> dict[str, Any]:
    """The next presence change of ``user_id`` seen on ``stream``."""
    deadline = time.monotonic() + timeout
    while True:
        frame = await stream.next("presence.changed", timeout=deadline - time.monotonic())
        change = presence_changes(frame).get(user_id)
        if change is not None:
            return change
