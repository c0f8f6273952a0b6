"""One load-generator process holding many WebSocket clients of ``/api/v1/stream``.

Started by :class:`bench.fleet.Fleet` as ``python -m bench.wsworker CONFIG.json``. It opens
its connections (``Authorization: Bearer``), waits for each one's ``ready`` frame, then
prints ``{"event": "ready", ...}``. Afterwards it records, per connection, the sequence
number of every ``message.posted`` frame (the ``#<seq>`` its body starts with) and the
monotonic time it arrived; it sends an application heartbeat ``{"type": "ping"}`` every
``heartbeat`` seconds. Commands on stdin: ``stats`` (print counters), ``save`` (write
the receipts gathered since the last save to ``results``) and ``stop`` (save and exit).

The config's ``reader`` chooses the client: ``lean`` (default, :mod:`bench.leanstream`:
frames parsed in the protocol's ``data_received``, the receipt time taken as the bytes
arrive) or ``websockets`` (the library's client, whose per-frame cost of ~30 µs makes the
generator itself the bottleneck with thousands of sockets per core).
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection

from bench.leanstream import open_stream
from bench.streamworker import MESSAGE_PREFIX, PING, bench_seq, connect_stream, run_worker, say

READY = '{"type":"ready"'
Send = Callable[[str], Awaitable[None]]
Listen = Callable[[], Awaitable[None]]


@dataclass
class Counters:
    ready: int = 0
    failed: int = 0
    closed: int = 0
    messages: int = 0
    other_messages: int = 0
    pongs: int = 0
    pings: int = 0
    presence: int = 0
    other: int = 0
    close_codes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class Worker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.connections: list[list[Any]] = config["connections"]
        self.seqs: list[list[int]] = [[] for _ in self.connections]
        self.times: list[list[float]] = [[] for _ in self.connections]
        self.counters = Counters()
        self.all_ready = asyncio.Event()
        self.failed: list[int] = []

    async def run(self) -> None:
        started = time.monotonic()
        limit = asyncio.Semaphore(self.config.get("connect_concurrency", 50))
        tasks = [
            asyncio.create_task(self.client(index, limit)) for index in range(len(self.connections))
        ]
        await self.all_ready.wait()
        say(
            "ready",
            connected=self.counters.ready,
            failed=self.counters.failed,
            failed_indices=self.failed,
            seconds=round(time.monotonic() - started, 2),
            errors=self.counters.errors[:3],
        )
        await self.commands()
        for task in tasks:
            task.cancel()

    def settle(self) -> None:
        if self.counters.ready + self.counters.failed >= len(self.connections):
            self.all_ready.set()

    async def client(self, index: int, limit: asyncio.Semaphore) -> None:
        token, url = self.connections[index]
        headers = {"Authorization": f"Bearer {token}"}
        deflate = self.config.get("compression", "deflate") == "deflate"
        opener = self.open_lean if self.config.get("reader", "lean") == "lean" else self.open_ws
        try:
            async with limit:
                send, listen = await opener(index, url + "/api/v1/stream", headers, deflate)
        except Exception as error:
            self.counters.failed += 1
            self.failed.append(index)
            self.error(error)
            self.settle()
            return
        self.counters.ready += 1
        self.settle()
        heartbeat = self.config.get("heartbeat", 0)
        beat = asyncio.create_task(self.beat(send, heartbeat)) if heartbeat else None
        try:
            await listen()
        finally:
            if beat is not None:
                beat.cancel()

    async def open_lean(
        self, index: int, url: str, headers: dict[str, str], deflate: bool
    ) -> tuple[Send, Listen]:
        """Connect with :mod:`bench.leanstream`; its callback records the frames."""
        ready = asyncio.get_running_loop().create_future()
        stream = await open_stream(url, headers, self.receiver(index, ready), deflate=deflate)
        await asyncio.wait([ready, stream.ended], return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            raise stream.error or ConnectionError("closed before ready")

        async def send(text: str) -> None:
            stream.send_text(text)

        async def listen() -> None:
            await stream.wait_closed()
            if stream.error is not None:
                self.error(stream.error)
            self.closed(stream.close_code)

        return send, listen

    async def open_ws(
        self, index: int, url: str, headers: dict[str, str], deflate: bool
    ) -> tuple[Send, Listen]:
        """Connect with the ``websockets`` library; :meth:`receive` records the frames."""
        socket = await connect_stream(url, headers, compression="deflate" if deflate else None)
        while True:
            frame = await socket.recv()
            if isinstance(frame, str) and frame.startswith(READY):
                break
        return socket.send, functools.partial(self.receive, index, socket)

    def error(self, error: BaseException) -> None:
        if len(self.counters.errors) < 10:
            self.counters.errors.append(f"{type(error).__name__}: {error}")

    def closed(self, code: int | None) -> None:
        counters = self.counters
        counters.closed += 1
        counters.close_codes[str(code)] = counters.close_codes.get(str(code), 0) + 1

    async def beat(self, send: Send, every: float) -> None:
        await asyncio.sleep(random.uniform(0, every))
        while True:
            await send(PING)
            self.counters.pings += 1
            await asyncio.sleep(every)

    def receiver(self, index: int, ready: asyncio.Future[None]) -> Callable[[str, float], None]:
        """The lean client's callback for connection ``index``: frames before its ``ready``
        are skipped, as the websockets reader skips them."""
        seqs, times, counters = self.seqs[index], self.times[index], self.counters
        waiting = True

        def receive(frame: str, now: float) -> None:
            nonlocal waiting
            if waiting:
                if frame.startswith(READY):
                    waiting = False
                    ready.set_result(None)
                return
            tally(frame, now, seqs, times, counters)

        return receive

    async def receive(self, index: int, socket: ClientConnection) -> None:
        seqs, times, counters = self.seqs[index], self.times[index], self.counters
        monotonic = time.monotonic
        try:
            async for frame in socket:
                now = monotonic()
                if isinstance(frame, bytes):
                    frame = frame.decode()
                tally(frame, now, seqs, times, counters)
        except Exception as error:
            self.error(error)
        self.closed(socket.close_code)

    def stats(self) -> dict[str, Any]:
        c = self.counters
        return {
            "ready": c.ready,
            "failed": c.failed,
            "closed": c.closed,
            "messages": c.messages,
            "other_messages": c.other_messages,
            "pings": c.pings,
            "pongs": c.pongs,
            "presence": c.presence,
            "other": c.other,
            "close_codes": c.close_codes,
            "errors": c.errors[:3],
        }

    async def commands(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            command = line.strip()
            if command == "stats" or not line:
                say("stats", **self.stats())
            if command in ("save", "stop") or not line:
                self.save()
                say("saved")
            if command == "stop" or not line:
                return

    def save(self) -> None:
        """Write the receipts gathered since the last save, and forget them."""
        with open(self.config["results"], "w") as out:
            json.dump({"seqs": self.seqs, "times": self.times, **self.stats()}, out)
        for seqs, times in zip(self.seqs, self.times, strict=True):
            seqs.clear()
            times.clear()


def tally(frame: str, now: float, seqs: list[int], times: list[float], counters: Counters) -> None:
    """Count one frame; a bench message's sequence number and receipt time are recorded."""
    if frame.startswith(MESSAGE_PREFIX):
        seq = bench_seq(frame)
        if seq is None:
            counters.other_messages += 1
            return
        seqs.append(seq)
        times.append(now)
        counters.messages += 1
    elif frame.startswith('{"type":"pong"'):
        counters.pongs += 1
    elif frame.startswith('{"type":"presence'):
        counters.presence += 1
    else:
        counters.other += 1


if __name__ == "__main__":
    run_worker(Worker)
