"""One load-generator process of ``bench.day``: clerks who arrive, read and leave tabs.

Started by bench/day.py as ``python -m bench.dayworker CONFIG.json``. Commands arrive on
stdin, one JSON object a line; each answer is one JSON line on stdout:

- ``{"cmd": "morning", "t0": T, "ramp": R}``: each clerk arrives at ``T + offset * R``
  (CLOCK_MONOTONIC): logs in through the login form (``login``) or brings her session
  cookie, opens her branch room's page (``GET /rooms/{id}``), the room list
  (``GET /api/v1/rooms``) and the stream (``/api/v1/stream?last_message_id=…``, as the
  page's script does); answer ``{"event": "arrived"}`` once all have.
- ``{"cmd": "window", "duration": D, "scrolls": s, "reopens": r, "churn": c}``: for ``D``
  seconds, at these rates per second (spread over this process's clerks at random): a
  history scroll (``GET /api/v1/rooms/{id}/messages?before=…``), a tab reopened (stream
  closed, page and room list loaded again, stream reopened with the last message id it
  had: the catch-up), a clerk leaving for 6–15 s (past the presence grace) and coming back
  the same way. Answer ``{"event": "window"}`` when the window and every action in it ended.
- ``{"cmd": "save"}``: write what was recorded since the last save to ``results``.
- ``{"cmd": "stats"}`` and ``{"cmd": "stop"}``.

Receipts per clerk: the sequence numbers of ``message.posted`` frames received live (after
``ready``) with their arrival time, and those replayed by a catch-up (before ``ready``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection

from bench.httpclient import Connection, build_request
from bench.streamworker import MESSAGE_PREFIX, PING, bench_seq, connect_stream, run_worker, say

CSRF_FIELD = re.compile(rb'name="csrf_token" value="([^"]+)"')
SESSION_COOKIE = "counterline_session"
LOGIN_CSRF_COOKIE = "counterline_login_csrf"


@dataclass
class Clerk:
    index: int
    username: str
    cookie: str  # the session cookie's value ("" until she logs in through the form)
    branch_room_id: int
    login: bool
    offset: float
    last_id: int = 0
    socket: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    busy: bool = False
    live: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    replayed: list[int] = field(default_factory=list)


class Worker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.host, self.port = config["host"], config["port"]
        self.ws_url = f"ws://{self.host}:{self.port}/api/v1/stream"
        self.clerks = [Clerk(**clerk) for clerk in config["clerks"]]
        self.rng = random.Random(config["seed"])
        self.latencies: dict[str, list[float]] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.errors: list[str] = []
        self.counts = {"presence": 0, "other": 0, "reopens": 0, "churn": 0, "scrolls": 0}
        self.heartbeat = config["heartbeat"]
        self.first, self.last = config["history"]

    # ------------------------------------------------------------ recording

    def timed(self, kind: str, started: float, status: int) -> None:
        self.latencies.setdefault(kind, []).append(time.monotonic() - started)
        by_status = self.statuses.setdefault(kind, {})
        by_status[str(status)] = by_status.get(str(status), 0) + 1

    def error(self, what: str, error: BaseException | str) -> None:
        if len(self.errors) < 20:
            text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
            self.errors.append(f"{what}: {text}"[:300])

    # ------------------------------------------------------------ HTTP

    async def get(self, http: Connection, clerk: Clerk, kind: str, path: str) -> int:
        headers = {"Cookie": f"{SESSION_COOKIE}={clerk.cookie}", "Accept-Language": "zh-CN"}
        started = time.monotonic()
        response = await http.send(build_request("GET", path, headers))
        self.timed(kind, started, response.status)
        if response.status != 200:
            self.error(f"{kind} {path}", f"status {response.status}")
        return response.status

    async def log_in(self, http: Connection, clerk: Clerk) -> None:
        """The login page, then the form posted with its CSRF token (as a browser does)."""
        started = time.monotonic()
        page = await http.send(build_request("GET", "/login", {"Accept-Language": "zh-CN"}))
        self.timed("login page", started, page.status)
        found = CSRF_FIELD.search(page.body)
        if page.status != 200 or found is None:
            self.error("login page", f"status {page.status}, csrf field found: {bool(found)}")
            return
        csrf = found.group(1).decode()
        form = (
            f"username={quote(clerk.username)}&password={quote(self.config['password'])}"
            f"&csrf_token={quote(csrf)}&next=%2F"
        ).encode()
        headers = {
            "Cookie": f"{LOGIN_CSRF_COOKIE}={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Language": "zh-CN",
        }
        started = time.monotonic()
        status, head = await post_reading_head(
            self.host, self.port, build_request("POST", "/login", headers, form)
        )
        self.timed("login", started, status)
        # The answer sets the session cookie and clears the form's (two Set-Cookie lines).
        match = re.search(rf"(?im)^set-cookie: {SESSION_COOKIE}=([^;]+)", head)
        if status != 303 or match is None:
            self.error("login", f"status {status}, head {head[:200]!r}")
            return
        clerk.cookie = match.group(1)

    # ------------------------------------------------------------ the stream

    async def open_stream(self, clerk: Clerk) -> None:
        url = f"{self.ws_url}?last_message_id={clerk.last_id}"
        started = time.monotonic()
        socket = await connect_stream(url, {"Cookie": f"{SESSION_COOKIE}={clerk.cookie}"})
        while True:
            frame = await socket.recv()
            if isinstance(frame, bytes):
                frame = frame.decode()
            if frame.startswith('{"type":"ready"'):
                break
            self.record(clerk, frame, live=False)
        self.timed("stream ready", started, 101)
        clerk.socket = socket
        clerk.reader = asyncio.create_task(self.receive(clerk, socket))

    def record(self, clerk: Clerk, frame: str, *, live: bool) -> None:
        if frame.startswith(MESSAGE_PREFIX):
            message = json.loads(frame)["message"]
            clerk.last_id = max(clerk.last_id, message["id"])
            seq = bench_seq(frame)
            if seq is None:
                return
            if live:
                clerk.live.append(seq)
                clerk.times.append(time.monotonic())
            else:
                clerk.replayed.append(seq)
        elif frame.startswith('{"type":"presence'):
            self.counts["presence"] += 1
        elif not frame.startswith('{"type":"pong"'):
            self.counts["other"] += 1

    async def receive(self, clerk: Clerk, socket: ClientConnection) -> None:
        beat = asyncio.create_task(self.beat(socket))
        try:
            async for frame in socket:
                if isinstance(frame, bytes):
                    frame = frame.decode()
                self.record(clerk, frame, live=True)
        except Exception as error:
            if clerk.socket is socket:  # not closed by us
                self.error(f"stream of {clerk.username}", error)
        finally:
            beat.cancel()

    async def beat(self, socket: ClientConnection) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.heartbeat))
        with contextlib.suppress(Exception):
            while True:
                await socket.send(PING)
                await asyncio.sleep(self.heartbeat)

    async def close_stream(self, clerk: Clerk) -> None:
        socket, reader = clerk.socket, clerk.reader
        clerk.socket = clerk.reader = None
        if socket is not None:
            await socket.close()
        if reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    # ------------------------------------------------------------ what clerks do

    async def open_tab(self, clerk: Clerk) -> None:
        """Page, room list and stream, on a fresh connection (as a browser's new tab)."""
        http = await Connection(self.host, self.port).open()
        try:
            if clerk.login and not clerk.cookie:
                await self.log_in(http, clerk)
                await http.close()  # idle past the server's keep-alive while argon2 ran
            await self.get(http, clerk, "room page", f"/rooms/{clerk.branch_room_id}")
            await self.get(http, clerk, "room list", "/api/v1/rooms")
        finally:
            await http.close()
        await self.open_stream(clerk)

    async def arrive(self, clerk: Clerk, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        try:
            await self.open_tab(clerk)
        except Exception as error:
            self.error(f"arrival of {clerk.username}", error)

    async def scroll(self, clerk: Clerk) -> None:
        room = clerk.branch_room_id if self.rng.random() < 0.7 else self.config["company_room_id"]
        before = self.rng.randint(self.first + 1, self.last) if self.last > self.first else 1
        http = await Connection(self.host, self.port).open()
        try:
            await self.get(
                http, clerk, "history page", f"/api/v1/rooms/{room}/messages?before={before}"
            )
            self.counts["scrolls"] += 1
        finally:
            await http.close()

    async def reopen(self, clerk: Clerk, away: float, kind: str) -> None:
        clerk.busy = True
        try:
            await self.close_stream(clerk)
            await asyncio.sleep(away)
            await self.open_tab(clerk)
            self.counts[kind] += 1
        except Exception as error:
            self.error(f"{kind} of {clerk.username}", error)
        finally:
            clerk.busy = False

    async def window(self, duration: float, rates: dict[str, float]) -> None:
        started = time.monotonic()
        ends = started + duration
        actions: list[asyncio.Task[None]] = []
        total = sum(rates.values())
        while total:
            await asyncio.sleep(self.rng.expovariate(total))
            now = time.monotonic()
            if now >= ends:
                break
            kind = self.rng.choices(list(rates), weights=list(rates.values()))[0]
            idle = [c for c in self.clerks if not c.busy and c.socket is not None]
            if not idle:
                continue
            clerk = self.rng.choice(idle)
            if kind == "scrolls":
                actions.append(asyncio.create_task(self.scroll(clerk)))
            elif kind == "reopens":
                clerk.busy = True
                actions.append(asyncio.create_task(self.reopen(clerk, 0.2, "reopens")))
            elif ends - now > 16:  # churn: back before the window ends
                clerk.busy = True
                away = self.rng.uniform(6, 15)
                actions.append(asyncio.create_task(self.reopen(clerk, away, "churn")))
        await asyncio.sleep(max(0.0, ends - time.monotonic()))
        for done in await asyncio.gather(*actions, return_exceptions=True):
            if isinstance(done, BaseException):
                self.error("action", done)

    # ------------------------------------------------------------ commands

    def stats(self) -> dict[str, Any]:
        return {
            "connected": sum(c.socket is not None for c in self.clerks),
            "messages": sum(len(c.live) + len(c.replayed) for c in self.clerks),
            **self.counts,
            "errors": self.errors[:5],
        }

    def save(self) -> None:
        data = {
            "live": [c.live for c in self.clerks],
            "times": [c.times for c in self.clerks],
            "replayed": [c.replayed for c in self.clerks],
            "latencies": self.latencies,
            "statuses": self.statuses,
            "errors": self.errors,
            **self.stats(),
        }
        with open(self.config["results"], "w") as out:
            json.dump(data, out)
        for clerk in self.clerks:
            clerk.live, clerk.times, clerk.replayed = [], [], []
        self.latencies, self.statuses, self.errors = {}, {}, []
        for key in self.counts:
            self.counts[key] = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        say("ready")
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            command = json.loads(line)
            cmd = command["cmd"]
            if cmd == "morning":
                t0, ramp = command["t0"], command["ramp"]
                await asyncio.gather(*(self.arrive(c, t0 + c.offset * ramp) for c in self.clerks))
                say("arrived", **self.stats())
            elif cmd == "window":
                rates = {k: command[k] for k in ("scrolls", "reopens", "churn")}
                await self.window(command["duration"], rates)
                say("window", **self.stats())
            elif cmd == "stats":
                say("stats", **self.stats())
            elif cmd == "save":
                self.save()
                say("saved")
            elif cmd == "stop":
                break
        for clerk in self.clerks:
            with contextlib.suppress(Exception):
                await self.close_stream(clerk)
        say("stopped")


async def post_reading_head(host: str, port: int, raw: bytes) -> tuple[int, str]:
    """Send one request on a connection of its own; its status and whole head (the lean
    client keeps one header of each name, a login answer has two Set-Cookie)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(raw)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = re.search(r"(?im)^content-length: *(\d+)", head)
        if length:
            await reader.readexactly(int(length.group(1)))
        return int(head.split(" ", 2)[1]), head
    finally:
        writer.close()


if __name__ == "__main__":
    run_worker(Worker)
