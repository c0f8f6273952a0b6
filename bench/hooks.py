"""Incoming webhooks: a tool posts to one hook (``POST /hooks/{token}``, a Mattermost
payload) open loop at 200 posts/s for 60 s into one room (target: sustained, every
acknowledged post stored once). Acknowledgement p50/p99 and server CPU per post. Baseline,
same run and server: the same rate into a room of the same members through the messages
API (``POST /api/v1/rooms/{id}/messages`` with a Bearer token). Then the rate limit: a
server with the default limits (10 posts/s, bursts of 20, per hook) is flooded with 100
posts in a second; those beyond the limit must be answered 429 with Retry-After, and none of
them stored.

For the sustained phase the server runs with ``hook_posts_per_second`` = ``hook_burst`` =
``--hook-limit`` (1,000 by default). Hook posts carry no client id, so their store check
matches by text (each post's text is unique: ``#<seq>``).

    .venv/bin/python -m bench.hooks            # full: 60 s at 200 posts/s
    .venv/bin/python -m bench.hooks --short    # CI: 1 s
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from bench.fanout import prepared
from bench.harness import (
    MachineMeter,
    Meter,
    Server,
    arguments,
    emit_json,
    header,
    latency_summary,
    report,
)
from bench.httpclient import Pool, build_request
from bench.seed import Shape
from bench.sender import HttpPoster, Post, Poster, body_of, node_of, run_open_loop
from bench.targets import StoreCheck, check_store, counterline_nodes
from counterline.config import Settings
from counterline.messages.models import Message
from counterline.services import Services

HOOK_ROOM, API_ROOM, MEMBERS = "hooked", "posted", 20
FLOOD = 100  # posts in one second against the default limit (10/s, bursts of 20)


class HookPoster:
    """``POST /hooks/{token}`` as a monitoring tool sends it, over keep-alive pools (one per
    node, round-robin). No retries: a 429 is the answer being measured."""

    def __init__(self, urls: Sequence[str], path: str, pool_size: int = 64) -> None:
        self.path = path
        self.pools = []
        for url in urls:
            parts = urlsplit(url)
            self.pools.append(Pool(parts.hostname or "127.0.0.1", parts.port or 80, pool_size))
        self.retry_after: list[str] = []

    async def post(self, post: Post) -> None:
        payload = {"text": body_of(post.seq), "username": "bench-tool", "channel": HOOK_ROOM}
        raw = build_request(
            "POST",
            self.path,
            {"Content-Type": "application/json", "Accept-Language": "en"},
            json.dumps(payload, ensure_ascii=False).encode(),
        )
        post.sent_at = time.monotonic()
        try:
            response = await self.pools[node_of(post, len(self.pools))].send(raw)
        except (OSError, asyncio.IncompleteReadError) as error:
            post.error = f"{type(error).__name__}: {error}"
            return
        post.acked_at = time.monotonic()
        post.status = response.status
        if response.status == 429:
            self.retry_after.append(response.headers.get("retry-after", ""))
        if response.status != 200:
            post.error = response.body[:200].decode(errors="replace")

    async def close(self) -> None:
        for pool in self.pools:
            await pool.close()


def make_hook(server: Server, admin_token: str, room_id: int) -> str:
    """A hook into ``room_id``, made by the administrator; its path with the secret."""
    response = httpx.post(
        f"{server.url}/api/v1/hooks",
        json={"room_id": room_id, "name": "bench monitor", "allow_username_override": True},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=30,
    )
    response.raise_for_status()
    return urlsplit(response.json()["url"]).path


def evenly(first_seq: int, rate: float, duration: float, room_id: int, token: str) -> list[Post]:
    return [Post(first_seq + n, n / rate, room_id, token) for n in range(round(rate * duration))]


def measure(servers: Sequence[Server], make_poster: Any, posts: list[Post]) -> dict[str, Any]:
    """Send ``posts`` open loop through the poster ``make_poster()`` builds; figures."""
    pids = [pid for server in servers for pid in server.pids()]

    async def send() -> tuple[float, Poster]:
        poster = make_poster()
        try:
            return await run_open_loop(poster, posts), poster
        finally:
            await poster.close()

    with MachineMeter() as whole, Meter(pids) as server:
        behind, poster = asyncio.run(send())
    statuses: dict[str, int] = {}
    for post in posts:
        statuses[str(post.status)] = statuses.get(str(post.status), 0) + 1
    acked = [post.acked_at - post.sent_at for post in posts if post.status in (200, 201)]
    return {
        "posts": len(posts),
        "statuses": statuses,
        "ack": latency_summary(acked),
        "post_errors": sorted({f"{p.status} {p.error}"[:200] for p in posts if p.error})[:3],
        "sender_behind_ms": round(behind * 1000, 1),
        "server_cores": round(server.cores, 3),
        "server_cpu_us_per_post": round(server.cpu / max(1, len(posts)) * 1e6, 1),
        "other_cores": round(whole.others(server), 3),
        "retry_after": sorted(set(getattr(poster, "retry_after", []))),
    }


def check_hook_store(database_url: str, posts: Sequence[Post], room_id: int) -> StoreCheck:
    """Every acknowledged hook post stored once in the room, by text; nothing else there."""
    return asyncio.run(_check_hook_store(database_url, posts, room_id))


async def _check_hook_store(database_url: str, posts: Sequence[Post], room_id: int) -> StoreCheck:
    services = Services.from_settings(Settings(database_url=database_url))
    try:
        async with services.reading() as unit:
            bodies = list(
                await unit.session.scalars(select(Message.body).where(Message.room_id == room_id))
            )
    finally:
        await services.database.dispose()
    acked = {body_of(post.seq) for post in posts if post.status == 200}
    check = StoreCheck(acknowledged=len(acked))
    seen: dict[str, int] = {}
    for body in bodies:
        seen[body] = seen.get(body, 0) + 1
        check.extra += body not in acked
    check.duplicated = sum(n - 1 for n in seen.values() if n > 1)
    check.missing = sum(1 for body in acked if body not in seen)
    return check


def line(name: str, figures: dict[str, Any]) -> tuple[str, str]:
    ack = figures["ack"]
    return (
        name,
        f"{figures['posts']} posts {figures['statuses']}  ack p50 {ack['p50_ms']} ms, "
        f"p99 {ack['p99_ms']} ms  server {figures['server_cores'] * 100:.0f}% of a core "
        f"({figures['server_cpu_us_per_post']} µs CPU/post)  others "
        f"{figures['other_cores'] * 100:.0f}%  sender behind {figures['sender_behind_ms']} ms",
    )


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="posts/s, both phases")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument(
        "--hook-limit",
        type=float,
        default=1000.0,
        help="the per-hook rate and burst while the sustained rate is measured",
    )
    args = parser.parse_args()
    if args.short:
        args.duration = 1.0
    header(f"incoming webhooks: {args.rate:g} posts/s into one room")
    shape = Shape(1, MEMBERS, topic_rooms=((HOOK_ROOM, MEMBERS), (API_ROOM, MEMBERS)))
    high = {
        "COUNTERLINE_HOOK_POSTS_PER_SECOND": str(args.hook_limit),
        "COUNTERLINE_HOOK_BURST": str(int(args.hook_limit)),
    }
    results: dict[str, Any] = {}
    with prepared(args, "hooks", shape) as (run_dir, provisioned):
        manifest = provisioned.manifest
        hook_room = manifest.topic_rooms[HOOK_ROOM]["id"]
        api_room = manifest.topic_rooms[API_ROOM]["id"]
        admin = manifest.admin.token
        with counterline_nodes(args, run_dir, provisioned, env=high) as servers:
            urls = [server.url for server in servers]
            path = make_hook(servers[0], admin, hook_room)
            hook_posts = evenly(1, args.rate, args.duration, hook_room, "")
            results["hook"] = measure(servers, lambda: HookPoster(urls, path), hook_posts)
            api_posts = evenly(20_000_000, args.rate, args.duration, api_room, admin)
            results["messages API"] = measure(servers, lambda: HttpPoster(urls), api_posts)
        with counterline_nodes(args, run_dir, provisioned) as servers:
            urls = [server.url for server in servers]
            flood = evenly(10_000_000, FLOOD, 1.0, hook_room, "")
            results["flood"] = measure(servers, lambda: HookPoster(urls, path), flood)
        hook_check = check_hook_store(provisioned.database_url, [*hook_posts, *flood], hook_room)
        api_check = check_store(provisioned.database_url, api_posts)
    report(
        [
            line(f"hook @{args.rate:g}/s", results["hook"]),
            line(f"baseline: messages API @{args.rate:g}/s", results["messages API"]),
            line(f"hook flood, default limits, {FLOOD} in 1 s", results["flood"]),
            ("hook store check", hook_check.line()),
            ("messages API store check", api_check.line()),
            ("flood: Retry-After values", ", ".join(results["flood"]["retry_after"]) or "none"),
        ]
    )
    for name, check in (("hook_store_check", hook_check), ("api_store_check", api_check)):
        results[name] = vars(check)
    emit_json("hooks", results)
    sustained = results["hook"]["statuses"] == {"200": len(hook_posts)}
    limited = results["flood"]["statuses"].get("429", 0) > 0 and all(
        value.isdigit() for value in results["flood"]["retry_after"]
    )
    if not (sustained and limited and hook_check.ok and api_check.ok):
        print(
            "FAILED: a sustained post was refused, the flood met no 429 with Retry-After, or "
            "the store does not match what was acknowledged"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
