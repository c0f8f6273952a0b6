"""Uploads: the server's memory while a 10 MB upload is accepted and 100 MB ones are refused
(target: grows < 20 MiB), and message delivery in one room while 20 clerks upload 5 MB
pictures at once (target: p99 < 50 ms); baselines, same run: the memory growth of a 1 kB
upload, and the same delivery with no uploads.

Uploads are sent over raw sockets with a Bearer token, their bytes generated as they are sent
(the load generator holds no 100 MB body). Server RSS (the process tree) is sampled every
5 ms. The 100 MB uploads are sent twice: with a Content-Length (refused before its body is
read) and chunked (the server must read until the 10 MB limit is passed, then stop).
Delivery: listeners on the company room's stream, one sender posting at 10 messages/s;
latency = arrival at the listener − the moment the post was sent.

    .venv/bin/python -m bench.uploads            # full
    .venv/bin/python -m bench.uploads --short    # CI: small sizes, a few seconds
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import websockets
from PIL import Image

from bench.fanout import prepared
from bench.harness import (
    MachineMeter,
    Meter,
    Server,
    arguments,
    emit_json,
    latency_summary,
    mib,
    report,
)
from bench.harness import header as print_header
from bench.manifest import BenchUser
from bench.seed import Shape
from bench.targets import counterline_nodes

MiB = 1 << 20
BOUNDARY = "----clbench-upload"
CHUNK = 256 * 1024


class RssSampler:
    """Peak RSS of the server's process tree above ``base``, sampled every 5 ms."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from bench.harness import rss_bytes

        pids = self.server.pids()
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_bytes(pids))

    def __enter__(self) -> RssSampler:
        from bench.harness import rss_bytes

        self.base = rss_bytes(self.server.pids())
        self.peak = self.base
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.base


def file_bytes(size: int, seed: int) -> Iterator[bytes]:
    """``size`` bytes of a "PDF" (its magic, then noise), a chunk at a time."""
    head = b"%PDF-1.7\n%" + seed.to_bytes(8, "big") + b"\n"
    yield head
    left = size - len(head)
    while left > 0:
        part = min(CHUNK, left)
        yield os.urandom(part)
        left -= part


async def raw_upload(
    server: Server, token: str, size: int, *, chunked: bool, seed: int
) -> dict[str, Any]:
    """Send one upload of ``size`` bytes; stop sending when the server answers or closes.
    Returns the status, bytes of the file sent and seconds taken."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="bench-{seed}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    framing = (
        "Transfer-Encoding: chunked"
        if chunked
        else f"Content-Length: {len(head) + size + len(tail)}"
    )
    writer.write(
        (
            f"POST /api/v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n\r\n"
        ).encode()
    )
    started = time.monotonic()
    sent = 0
    answer = asyncio.ensure_future(reader.read(65536))

    def frame(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data) if chunked else data

    try:
        writer.write(frame(head))
        for part in file_bytes(size, seed):
            if answer.done():
                break
            writer.write(frame(part))
            await writer.drain()
            sent += len(part)
            await asyncio.sleep(0)  # let the answer in as soon as it comes
        else:
            writer.write(frame(tail) + (b"0\r\n\r\n" if chunked else b""))
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    try:
        data = await asyncio.wait_for(answer, timeout=60)
    except (ConnectionError, TimeoutError):
        data = b""
    answered = time.monotonic() - started
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return {
        "status": status,
        "sent_bytes": sent,
        "seconds": round(answered, 3),
        "answer": body[:200].decode("utf-8", "replace"),
    }


def memory(args: Any, server: Server, token: str) -> dict[str, Any]:
    """RSS growth for a 1 kB upload (baseline), a 10 MB one, and two 100 MB ones."""
    limit, huge = args.limit_mb * MiB, args.huge_mb * MiB
    cases = [
        ("1 kB upload (baseline)", 1024, False),
        (f"{args.limit_mb} MB upload, accepted", limit, False),
        (f"{args.huge_mb} MB upload, Content-Length: refused", huge, False),
        (f"{args.huge_mb} MB upload, chunked: refused", huge, True),
    ]
    results: dict[str, Any] = {}

    async def warm_up() -> None:
        for seed in range(3):  # code paths, the thread pool, allocator arenas
            await raw_upload(server, token, MiB, chunked=False, seed=10_000 + seed)

    asyncio.run(warm_up())
    time.sleep(0.5)
    for number, (label, size, chunked) in enumerate(cases):
        with RssSampler(server) as rss:
            outcome = asyncio.run(raw_upload(server, token, size, chunked=chunked, seed=number))
            time.sleep(0.3)  # the row, the rename, the answer
        outcome["rss_growth_bytes"] = rss.growth
        results[label] = outcome
    return results


def noise_picture(megabytes: float) -> bytes:
    """A PNG of noise of about ``megabytes`` (noise does not compress)."""
    side = int((megabytes * MiB / 3) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


async def delivery(
    args: Any, server: Server, users: list[BenchUser], room_id: int, pictures: list[bytes]
) -> dict[str, Any]:
    """Posts at ``args.rate``/s for ``args.duration`` s into the room, heard by the listeners;
    with ``pictures``, one clerk per picture uploads it again and again meanwhile."""
    sender, listeners = users[0], users[1 : 1 + args.listeners]
    uploaders = users[1 + args.listeners : 1 + args.listeners + len(pictures)]
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    stop = asyncio.Event()
    uploads = {"done": 0, "failed": 0, "seconds": []}
    sockets = [
        await websockets.connect(
            f"{server.ws_url}/api/v1/stream",
            additional_headers={"Authorization": f"Bearer {user.token}"},
            max_size=None,
        )
        for user in listeners
    ]

    async def listen(socket: websockets.ClientConnection) -> None:
        while True:
            frame = json.loads(await socket.recv())
            if frame.get("type") == "message.posted":
                body = frame["message"]["body"]
                if body in sent_at:
                    latencies.append(time.monotonic() - sent_at[body])

    async def upload_loop(user: BenchUser, picture: bytes) -> None:
        headers = {"Authorization": f"Bearer {user.token}"}
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            while not stop.is_set():
                started = time.monotonic()
                response = await http.post(
                    "/api/v1/uploads", files={"file": ("photo.png", picture)}, headers=headers
                )
                uploads["seconds"].append(time.monotonic() - started)  # type: ignore[union-attr]
                uploads["done" if response.status_code == 201 else "failed"] += 1  # type: ignore[operator]

    for socket in sockets:
        while json.loads(await socket.recv()).get("type") != "ready":
            pass
    listening = [asyncio.create_task(listen(socket)) for socket in sockets]
    uploading = [
        asyncio.create_task(upload_loop(u, p)) for u, p in zip(uploaders, pictures, strict=True)
    ]
    if pictures:
        await asyncio.sleep(1.0)  # every uploader is sending
    errors = 0
    with MachineMeter() as whole, Meter(server.pids()) as server_meter:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {sender.token}"}, timeout=30
        ) as http:
            start = time.monotonic()
            count = int(args.rate * args.duration)
            for seq in range(count):
                await asyncio.sleep(max(0.0, start + seq / args.rate - time.monotonic()))
                body = f"bench-upload-{len(pictures)}-{seq}"
                sent_at[body] = time.monotonic()
                response = await http.post(
                    f"/api/v1/rooms/{room_id}/messages",
                    json={"body": body, "client_id": f"bench-up-{len(pictures)}-{seq}"},
                )
                errors += response.status_code != 201
        await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*uploading, return_exceptions=True)
    for task in listening:
        task.cancel()
    for socket in sockets:
        await socket.close()
    expected = count * len(sockets)
    upload_seconds = sorted(uploads["seconds"])  # type: ignore[arg-type]
    return {
        "latency": latency_summary(latencies),
        "expected": expected,
        "delivered": len(latencies),
        "post_errors": errors,
        "uploads_done": uploads["done"],
        "uploads_failed": uploads["failed"],
        "upload_p50_s": round(upload_seconds[len(upload_seconds) // 2], 2)
        if upload_seconds
        else None,
        "server_cores": round(server_meter.cores, 3),
        "server_peak_rss_bytes": server_meter.peak_rss,
        "other_cores": round(whole.others(server_meter), 3),
    }


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--uploaders", type=int, default=20, help="clerks uploading at once")
    parser.add_argument("--picture-mb", type=float, default=5.0)
    parser.add_argument("--listeners", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10.0, help="posts per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of posting")
    args = parser.parse_args()
    args.limit_mb, args.huge_mb = 10, 100
    if args.short:
        args.uploaders, args.picture_mb, args.listeners, args.duration = 4, 1.0, 5, 3.0
        args.huge_mb = 30
    print_header(
        f"uploads: memory for {args.limit_mb} MB accepted / {args.huge_mb} MB refused; "
        f"delivery with {args.uploaders} clerks uploading {args.picture_mb} MB pictures"
    )
    shape = Shape(3, max(10, (1 + args.listeners + args.uploaders) // 3 + 1))
    failed = False
    with prepared(args, "uploads", shape) as (run_dir, provisioned):
        manifest = provisioned.manifest
        env = {"COUNTERLINE_MAX_UPLOAD_BYTES": str(args.limit_mb * MiB)}
        with counterline_nodes(args, run_dir, provisioned, env=env) as servers:
            server = servers[0]
            users = manifest.users
            mem = memory(args, server, users[0].token)
            pictures = [noise_picture(args.picture_mb) for _ in range(args.uploaders)]
            quiet = asyncio.run(delivery(args, server, users, manifest.company_room_id, []))
            busy = asyncio.run(delivery(args, server, users, manifest.company_room_id, pictures))
    rows = []
    for label, outcome in mem.items():
        growth = outcome["rss_growth_bytes"]
        rows.append(
            (
                label,
                f"HTTP {outcome['status']}  server RSS +{mib(growth)}  "
                f"sent {mib(outcome['sent_bytes'])} in {outcome['seconds']} s",
            )
        )
        if "baseline" not in label:
            failed = failed or growth >= 20 * MiB
    expected_status = [201, 201, 413, 413]
    statuses = [outcome["status"] for outcome in mem.values()]
    failed = failed or statuses != expected_status
    for label, result in (
        ("delivery, no uploads (baseline)", quiet),
        ("delivery, uploading", busy),
    ):
        latency = result["latency"]
        rows.append(
            (
                label,
                f"p50 {latency['p50_ms']} ms  p99 {latency['p99_ms']} ms  "
                f"delivered {result['delivered']}/{result['expected']}  "
                f"uploads {result['uploads_done']} (failed {result['uploads_failed']}, "
                f"p50 {result['upload_p50_s']} s)  server {result['server_cores'] * 100:.0f}% "
                f"peak RSS {mib(result['server_peak_rss_bytes'])}  "
                f"others {result['other_cores'] * 100:.0f}%",
            )
        )
        failed = failed or result["delivered"] != result["expected"] or result["post_errors"]
        failed = failed or result["uploads_failed"] > 0
    p99 = busy["latency"]["p99_ms"]
    rows.append(
        (
            "targets",
            f"RSS growth < 20 MiB: {'met' if not failed else 'see above'}; "
            f"delivery p99 while uploading {p99} ms (target <= 50 ms: "
            f"{'met' if p99 <= 50 else 'MISSED'})",
        )
    )
    report(rows)
    emit_json("uploads", {"memory": mem, "delivery": {"quiet": quiet, "uploading": busy}})
    if failed:
        print("FAILED: a status, a lost delivery, a failed upload or RSS growth over 20 MiB")
        sys.exit(1)


if __name__ == "__main__":
    main()
