"""A lean HTTP/1.1 keep-alive client for load generation (tens of microseconds a request).

httpx costs about as much CPU per request as a small endpoint does on the server, so the
load generators speak HTTP/1.1 themselves: prebuilt request bytes, Content-Length or
chunked responses, one request at a time per connection.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from bench.harness import latency_summary


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def build_request(
    method: str, path: str, headers: dict[str, str], body: bytes = b"", host: str = "127.0.0.1"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=2**22)
        return self

    async def send(self, raw: bytes) -> Response:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, headers, body)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


class Pool:
    """Keep-alive connections to one server; opens more when all are busy. A request that
    finds its reused connection closed by the server is sent again on a new one (our posts
    carry a client id, so a resend can never store a message twice)."""

    def __init__(self, host: str, port: int, size: int = 64) -> None:
        self.host = host
        self.port = port
        self.idle: list[Connection] = []
        self.size = size
        self.opened = 0
        self.free = asyncio.Condition()

    async def send(self, raw: bytes) -> Response:
        async with self.free:
            while not self.idle and self.opened >= self.size:
                await self.free.wait()
            reused = bool(self.idle)
            if reused:
                connection = self.idle.pop()
            else:
                self.opened += 1
                connection = Connection(self.host, self.port)
        try:
            try:
                response = await connection.send(raw)
            except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
                if not reused:
                    raise
                # The server closed this idle keep-alive connection (uvicorn: after 5 s), as
                # browsers see it too; they resend on a new connection, and so do we.
                await connection.close()
                response = await connection.send(raw)
        except BaseException:
            await connection.close()
            async with self.free:
                self.opened -= 1
                self.free.notify()
            raise
        async with self.free:
            self.idle.append(connection)
            self.free.notify()
        return response

    async def close(self) -> None:
        for connection in self.idle:
            await connection.close()
        self.idle.clear()


async def get_one_by_one(port: int, token: str, path: str, count: int) -> dict[str, Any]:
    """``count`` GETs of ``path`` with an API token on one keep-alive connection, each after
    the previous answer (so each latency is close to server time): the latency summary,
    how many were not 200, and the last answer's JSON."""
    connection = await Connection("127.0.0.1", port).open()
    raw = build_request("GET", path, {"Authorization": f"Bearer {token}"})
    latencies, bad, last_body = [], 0, b""
    loop = asyncio.get_running_loop()
    for _ in range(count):
        started = loop.time()
        response = await connection.send(raw)
        latencies.append(loop.time() - started)
        if response.status != 200:
            bad += 1
        last_body = response.body
    await connection.close()
    return {**latency_summary(latencies), "errors": bad, "answer": json.loads(last_body or b"{}")}
