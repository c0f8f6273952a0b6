"""Posting messages open-loop, and scoring what the clients received.

Open loop: message i is sent at ``start + offset_i`` whether or not earlier posts have
been answered, so a slow server shows up as latency rather than as a lower rate. Each
message's client id is ``bench-<seq>``; receivers record ``seq`` and the arrival time, and
latency is arrival minus the moment the sender wrote the request (CLOCK_MONOTONIC is one
clock for every process on the machine).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect

from bench.fleet import Receipts
from bench.harness import latency_summary
from bench.httpclient import Pool, build_request

BODIES = [
    "营业厅通知：新宽带资费从下月起执行，请向客户说明有无机顶盒的收费区别。",
    "资源编码 **B1E0** 与 D1B0 请核对清楚，别再听错了。",
    "机顶盒押金退还流程：先在系统登记，再开收据。有问题在这里问。",
    "今天上午业务系统慢，开户请耐心等待，不要重复提交。",
]


MAX_RETRIES = 30


def client_id(seq: int) -> str:
    return f"bench-{seq:09d}"


def body_of(seq: int, mention: str = "") -> str:
    """A bench message's text: "#<seq> " first (wsworker reads it), then maybe an @mention."""
    named = f"@{mention} " if mention else ""
    return f"#{seq} {named}{BODIES[seq % len(BODIES)]}"


@dataclass
class Post:
    """One planned message: when (seconds from start), where, and as whom."""

    seq: int
    offset: float
    room_id: int
    token: str
    mention: str = ""  # a username the text mentions (sender.body_of), if any
    sent_at: float = 0.0
    acked_at: float = 0.0
    status: int = 0
    message_id: int = 0
    retries: int = 0
    error: str = ""


class Poster(Protocol):
    async def post(self, post: Post) -> None: ...

    async def close(self) -> None: ...


def node_of(post: Post, nodes: int) -> int:
    """The server a post is sent to: round-robin over the nodes."""
    return post.seq % nodes


@dataclass(frozen=True)
class Nodes:
    """Which of ``count`` servers each connection is on."""

    of_connection: Sequence[int]
    count: int


class HttpPoster:
    """``POST /api/v1/rooms/{id}/messages`` with a Bearer token, over keep-alive pools
    (one pool per node; posts go round-robin)."""

    def __init__(self, urls: Sequence[str], pool_size: int = 64) -> None:
        self.pools = []
        for url in urls:
            parts = urlsplit(url)
            self.pools.append(Pool(parts.hostname or "127.0.0.1", parts.port or 80, pool_size))

    async def post(self, post: Post) -> None:
        body = json.dumps(
            {"body": body_of(post.seq, post.mention), "client_id": client_id(post.seq)},
            ensure_ascii=False,
        ).encode()
        raw = build_request(
            "POST",
            f"/api/v1/rooms/{post.room_id}/messages",
            {"Authorization": f"Bearer {post.token}", "Content-Type": "application/json"},
            body,
        )
        pool = self.pools[node_of(post, len(self.pools))]
        post.sent_at = time.monotonic()
        while True:
            try:
                response = await pool.send(raw)
            except (OSError, asyncio.IncompleteReadError) as error:
                post.error = f"{type(error).__name__}: {error}"
                return
            if response.status not in (429, 503) or post.retries >= MAX_RETRIES:
                break
            # Shed load: retry later with the same client id, as the web client does.
            post.retries += 1
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        post.acked_at = time.monotonic()
        post.status = response.status
        if response.status in (200, 201):
            post.message_id = json.loads(response.body)["id"]
        else:
            post.error = response.body[:200].decode(errors="replace")

    async def close(self) -> None:
        for pool in self.pools:
            await pool.close()


class WsPoster:
    """The baseline's way in: a control WebSocket that asks the bare server to broadcast."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.socket: ClientConnection | None = None
        self.waiting: dict[int, tuple[Post, asyncio.Future[None]]] = {}
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> WsPoster:
        self.socket = await connect(
            self.url + "/api/v1/stream",
            additional_headers={"Authorization": f"Bearer {self.token}", "X-Bench-Control": "1"},
            compression=None,
            ping_interval=None,
        )
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.socket is not None
        async for frame in self.socket:
            data = json.loads(frame)
            if data.get("type") == "ack":
                post, done = self.waiting.pop(data["seq"])
                post.acked_at = time.monotonic()
                post.status = 201
                post.message_id = data["id"]
                done.set_result(None)

    async def post(self, post: Post) -> None:
        assert self.socket is not None
        done = asyncio.get_running_loop().create_future()
        self.waiting[post.seq] = (post, done)
        request = {
            "type": "post",
            "seq": post.seq,
            "room_id": post.room_id,
            "token": post.token,
            "client_id": client_id(post.seq),
            "body": body_of(post.seq, post.mention),
        }
        post.sent_at = time.monotonic()
        await self.socket.send(json.dumps(request, ensure_ascii=False))
        await done

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.socket is not None:
            await self.socket.close()


async def run_open_loop(poster: Poster, posts: Sequence[Post]) -> float:
    """Send every post at its offset; returns how late the sender fell behind at worst."""
    start = time.monotonic() + 0.05
    tasks = []
    worst = 0.0
    for post in posts:
        delay = start + post.offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            worst = max(worst, -delay)
        tasks.append(asyncio.create_task(poster.post(post)))
    await asyncio.gather(*tasks)
    return worst


def plan(
    rng: random.Random,
    first_seq: int,
    duration: float,
    streams: Sequence[tuple[float, Sequence[tuple[Any, ...]]]],
) -> list[Post]:
    """Evenly spaced posts for each (rate, [(room_id, author tokens[, usernames])]) stream,
    merged by time.

    Each message goes to a random room of its stream, posted by a random member; where the
    room comes with usernames, it mentions one of them.
    """
    posts = []
    for rate, rooms in streams:
        count = round(rate * duration)
        phase = rng.random() / rate if rate else 0
        for n in range(count):
            room_id, tokens, *named = rng.choice(rooms)
            mention = rng.choice(named[0]) if named else ""
            posts.append(Post(0, phase + n / rate, room_id, rng.choice(tokens), mention))
    posts.sort(key=lambda post: post.offset)
    for number, post in enumerate(posts):
        post.seq = first_seq + number
    return posts


@dataclass
class Score:
    """Deliveries judged against who should have received each message."""

    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    failed_posts: int = 0
    retried_posts: int = 0
    post_errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    post_latencies: list[float] = field(default_factory=list)
    same_node_latencies: list[float] = field(default_factory=list)
    cross_node_latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        by_node = {}
        if self.cross_node_latencies:
            by_node = {
                "same_node_latency": latency_summary(self.same_node_latencies),
                "cross_node_latency": latency_summary(self.cross_node_latencies),
            }
        return {
            **by_node,
            "expected": self.expected,
            "delivered": self.delivered,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "unexpected": self.unexpected,
            "failed_posts": self.failed_posts,
            "retried_posts": self.retried_posts,
            "post_errors": self.post_errors,
            "latency": latency_summary(self.latencies),
            "post_ack": latency_summary(self.post_latencies),
        }


def score(
    posts: Sequence[Post],
    receipts: Receipts,
    recipients: dict[int, Sequence[int]],
    nodes: Nodes | None = None,
) -> Score:
    """``recipients`` maps a room id to the connection indices that should get its messages.
    With ``nodes`` (several servers), latencies are also split by whether the recipient's
    node is the one the post went to."""
    by_seq = {post.seq: post for post in posts}
    result = Score()
    expected_by_connection: dict[int, set[int]] = {}
    for post in posts:
        result.retried_posts += bool(post.retries)
        if post.status not in (200, 201):
            result.failed_posts += 1
            error = f"{post.status} {post.error}"[:200]
            if len(result.post_errors) < 3 and error not in result.post_errors:
                result.post_errors.append(error)
            continue
        result.post_latencies.append(post.acked_at - post.sent_at)
        for connection in recipients.get(post.room_id, ()):
            expected_by_connection.setdefault(connection, set()).add(post.seq)
        result.expected += len(recipients.get(post.room_id, ()))
    for connection, (seqs, times) in enumerate(zip(receipts.seqs, receipts.times, strict=True)):
        wanted = expected_by_connection.get(connection, set())
        seen: set[int] = set()
        for seq, at in zip(seqs, times, strict=True):
            if seq not in by_seq:
                continue  # another run's message (e.g. an earlier saturation step)
            if seq not in wanted:
                result.unexpected += 1
            elif seq in seen:
                result.duplicated += 1
            else:
                seen.add(seq)
                latency = at - by_seq[seq].sent_at
                result.latencies.append(latency)
                if nodes is not None:
                    same = nodes.of_connection[connection] == node_of(by_seq[seq], nodes.count)
                    (result.same_node_latencies if same else result.cross_node_latencies).append(
                        latency
                    )
        result.delivered += len(seen)
        result.lost += len(wanted - seen)
    return result
