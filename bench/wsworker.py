"""One load-generator process holding many WebSocket clients of ``/api/v1/stream``.

Started by :class:`bench.fleet.Fleet` as ``python -m bench.wsworker CONFIG.json``. It opens
its connections (``Authorization: Bearer``), waits for each one's ``ready`` frame, then
prints ``{"event": "ready", ...}``. Afterwards it records, per connection, the sequence
number of every ``message.posted`` frame (the ``#<seq>`` its body starts with) and the
monotonic time it arrived; it sends an application heartbeat ``{"type": "ping"}`` every
``heartbeat`` seconds. Commands on stdin: ``stats`` (print counters), ``save`` (write
the receipts gathered since the last save to ``results``) and ``stop`` (save and exit).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection

from bench.streamworker import MESSAGE_PREFIX, PING, bench_seq, connect_stream, run_worker, say


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
        compression = "deflate" if self.config.get("compression", "deflate") == "deflate" else None
        try:
            async with limit:
                socket = await connect_stream(
                    url + "/api/v1/stream",
                    {"Authorization": f"Bearer {token}"},
                    compression=compression,
                )
                while True:
                    frame = await socket.recv()
                    if isinstance(frame, str) and frame.startswith('{"type":"ready"'):
                        break
        except Exception as error:
            self.counters.failed += 1
            self.failed.append(index)
            if len(self.counters.errors) < 10:
                self.counters.errors.append(f"{type(error).__name__}: {error}")
            self.settle()
            return
        self.counters.ready += 1
        self.settle()
        heartbeat = self.config.get("heartbeat", 0)
        beat = asyncio.create_task(self.beat(socket, heartbeat)) if heartbeat else None
        try:
            await self.receive(index, socket)
        finally:
            if beat is not None:
                beat.cancel()

    async def beat(self, socket: ClientConnection, every: float) -> None:
        await asyncio.sleep(random.uniform(0, every))
        while True:
            await socket.send(PING)
            self.counters.pings += 1
            await asyncio.sleep(every)

    async def receive(self, index: int, socket: ClientConnection) -> None:
        seqs, times, counters = self.seqs[index], self.times[index], self.counters
        monotonic = time.monotonic
        try:
            async for frame in socket:
                now = monotonic()
                if isinstance(frame, bytes):
                    frame = frame.decode()
                if frame.startswith(MESSAGE_PREFIX):
                    seq = bench_seq(frame)
                    if seq is None:
                        counters.other_messages += 1
                        continue
                    seqs.append(seq)
                    times.append(now)
                    counters.messages += 1
                elif frame.startswith('{"type":"pong"'):
                    counters.pongs += 1
                elif frame.startswith('{"type":"presence'):
                    counters.presence += 1
                else:
                    counters.other += 1
        except Exception as error:
            if len(counters.errors) < 10:
                counters.errors.append(f"{type(error).__name__}: {error}")
        counters.closed += 1
        code = str(socket.close_code)
        counters.close_codes[code] = counters.close_codes.get(code, 0) + 1

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


if __name__ == "__main__":
    run_worker(Worker)
