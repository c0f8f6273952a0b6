"""Fan-out "branch day": 1,000 clerks online (50 branches x 20), each in the company room
and their branch room; 45 messages/s into branch rooms and 5/s into the company room for
60 s, posted open-loop over HTTP. A tenth of the posts are addressed (``--addressed``):
half direct messages in 1:1 conversations (two per branch), half branch-room posts that
@mention a colleague, so the inbox rows and mention lookups are part of the day. Reports
delivery latency (post written -> each recipient's receipt) p50/p99, messages lost /
duplicated / delivered to non-members, the store check, server CPU and RSS, and the load
generator's CPU.

Baseline, same run: a bare ``websockets`` server broadcasting the same frames to the same
sockets with ``websockets.broadcast()`` (bench/baseline_ws.py).

The clients' reader (``--reader``, shared by the scripts built on this one): ``lean``
(default; bench/leanstream.py, a minimal client timing each receipt as its bytes arrive)
or ``websockets`` (the library's client, the older and costlier instrument).

    .venv/bin/python -m bench.fanout            # full: 1,000 clients, 60 s
    .venv/bin/python -m bench.fanout --short    # CI: 100 clients, 2 s
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.fleet import Fleet, Receipts
from bench.harness import (
    MachineMeter,
    Meter,
    arguments,
    emit_json,
    generator_cores,
    header,
    mib,
    multi_node_available,
    pin_self,
    report,
    rss_bytes,
    run_directory,
)
from bench.seed import Manifest, Provisioned, Shape, provision
from bench.sender import (
    HttpPoster,
    Nodes,
    Post,
    Poster,
    WsPoster,
    plan,
    run_open_loop,
    score,
)
from bench.targets import baseline_server, check_store, counterline_nodes

KINDS = ("counterline", "baseline")
DIRECT_PAIRS_PER_BRANCH = 2


@dataclass
class Audience:
    """Who is connected (index = connection) and who should receive each room's messages."""

    connections: list[tuple[str, str]]
    recipients: dict[int, list[int]]
    branch_rooms: list[tuple[int, list[str]]] = field(default_factory=list)
    company: tuple[int, list[str]] = (0, [])
    # Branch rooms with their members' usernames (to @mention) and 1:1 conversations.
    mentioning: list[tuple[int, list[str], list[str]]] = field(default_factory=list)
    conversations: list[tuple[int, list[str]]] = field(default_factory=list)

    def branch_day(
        self, branch_rate: float, company_rate: float, addressed: float = 0.0
    ) -> list[Stream]:
        """The day's streams; ``addressed`` of all posts are direct messages and mentions,
        taken out of the branch rooms' rate (half each, or all mentions without
        conversations)."""
        total = branch_rate + company_rate
        direct = total * addressed / 2 if self.conversations else 0.0
        mentions = total * addressed - direct
        streams: list[Stream] = [
            (branch_rate - direct - mentions, self.branch_rooms),
            (company_rate, [self.company]),
        ]
        if mentions:
            streams.append((mentions, self.mentioning))
        if direct:
            streams.append((direct, self.conversations))
        return streams


def branch_day(manifest: Manifest, urls: Sequence[str]) -> Audience:
    """Every clerk connected once, spread over the nodes round-robin."""
    connections = []
    recipients: dict[int, list[int]] = {manifest.company_room_id: []}
    tokens_by_room: dict[int, list[str]] = {}
    names_by_room: dict[int, list[str]] = {}
    index_of: dict[int, int] = {}
    for index, user in enumerate(manifest.users):
        connections.append((user.token, urls[index % len(urls)]))
        index_of[user.id] = index
        recipients[manifest.company_room_id].append(index)
        recipients.setdefault(user.branch_room_id, []).append(index)
        tokens_by_room.setdefault(user.branch_room_id, []).append(user.token)
        names_by_room.setdefault(user.branch_room_id, []).append(user.username)
    token_of = {user.id: user.token for user in manifest.users}
    conversations = []
    for room in manifest.conversations.values():
        recipients[room["id"]] = [index_of[member] for member in room["member_ids"]]
        conversations.append((room["id"], [token_of[member] for member in room["member_ids"]]))
    everyone = [user.token for user in manifest.users]
    return Audience(
        connections,
        recipients,
        sorted(tokens_by_room.items()),
        (manifest.company_room_id, everyone),
        [(room, tokens, names_by_room[room]) for room, tokens in sorted(tokens_by_room.items())],
        conversations,
    )


Stream = tuple[float, Sequence[tuple[Any, ...]]]


@dataclass
class Step:
    """One measured stretch: posts at fixed rates, each stream into random rooms of its own
    as a random member (``(rate, [(room_id, author tokens)])``)."""

    duration: float
    streams: list[Stream]
    posts: list[Post] = field(default_factory=list)
    server_cpu: float = 0.0
    server_cores: float = 0.0
    server_rss: int = 0
    server_peak_rss: int = 0
    generator_cores: float = 0.0
    other_cores: float = 0.0
    wall: float = 0.0
    sender_lag: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return sum(rate for rate, _ in self.streams)


class Session:
    """A server (Counterline nodes or the baseline) with the fleet connected to it."""

    def __init__(
        self,
        args: argparse.Namespace,
        run_dir: Path,
        provisioned: Provisioned,
        kind: str,
        audience: Callable[[Manifest, Sequence[str]], Audience] | None = None,
        heartbeat: float = 15,
        settle_timeout: float = 300,
        allow_failed_connects: bool = False,
        first_seq: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = env  # extra settings for the Counterline nodes (COUNTERLINE_*)
        self.settle_timeout = settle_timeout
        self.allow_failed_connects = allow_failed_connects
        self.make_audience = audience or branch_day
        self.heartbeat = heartbeat
        self.args = args
        self.run_dir = run_dir
        self.provisioned = provisioned
        self.kind = kind
        self.stack = ExitStack()
        self.receipts: Receipts | None = None
        self.next_seq = first_seq or (1 if kind == "counterline" else 500_000_000)
        self.rng = random.Random(42)
        self.server_pids: list[int] = []
        self.connect: dict[str, Any] = {}
        self.idle_rss = 0

    def __enter__(self) -> Session:
        manifest = self.provisioned.manifest
        if self.kind == "counterline":
            servers = self.stack.enter_context(
                counterline_nodes(self.args, self.run_dir, self.provisioned, self.env)
            )
        else:
            servers = [self.stack.enter_context(baseline_server(self.args, self.run_dir, manifest))]
        self.servers = servers
        self.server_pids = [pid for server in servers for pid in server.pids()]
        self.idle_rss = rss_bytes(self.server_pids)
        self.audience = self.make_audience(manifest, [server.ws_url for server in servers])
        self.fleet = Fleet(
            self.run_dir,
            self.audience.connections,
            processes=self.args.processes,
            cores=generator_cores(self.args),
            compression=self.args.compression,
            reader=self.args.reader,
            heartbeat=self.heartbeat,
            name=f"{self.kind}-fleet",
        )
        self.stack.callback(self.fleet.kill)
        started = time.monotonic()
        with Meter(self.server_pids) as storm:
            self.connect = self.fleet.start()
            if self.connect["failed"] and not self.allow_failed_connects:
                raise SystemExit(
                    f"{self.kind}: {self.connect['failed']} clients could not connect: "
                    f"{self.connect['errors']}"
                )
            for room_id, indices in self.audience.recipients.items():
                self.audience.recipients[room_id] = [
                    i for i in indices if i not in self.fleet.failed
                ]
            self.fleet.settle(quiet=0.5 if self.args.short else 1.0, timeout=self.settle_timeout)
        stats = self.fleet.stats()
        self.connect["settled_seconds"] = round(time.monotonic() - started, 1)
        self.connect["presence_frames"] = stats["presence"]
        self.connect["server_cpu_seconds"] = round(storm.cpu, 2)
        self.connect["server_rss"] = storm.rss
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def poster(self) -> Poster:
        if self.kind == "counterline":
            return HttpPoster([server.url for server in self.servers])
        return WsPoster(self.servers[0].ws_url, self.provisioned.manifest.admin.token)

    def nodes(self) -> Nodes | None:
        """With several Counterline nodes: who is on which, for same/cross-node latency."""
        if self.kind != "counterline" or len(self.servers) < 2:
            return None
        urls = [server.ws_url for server in self.servers]
        return Nodes([urls.index(url) for _, url in self.audience.connections], len(urls))

    def run(self, step: Step) -> Step:
        audience = self.audience
        step.posts = plan(
            self.rng,
            self.next_seq,
            step.duration,
            step.streams,
        )
        self.next_seq += len(step.posts)
        expected = sum(len(audience.recipients[p.room_id]) for p in step.posts)
        before = self.fleet.stats()["messages"]
        generator_pids = [*self.fleet.pids(), os.getpid()]
        with (
            MachineMeter() as whole,
            Meter(self.server_pids) as server,
            Meter(generator_pids) as generator,
        ):
            step.sender_lag = asyncio.run(self._send(step.posts))
            self.fleet.wait_for(before + expected, timeout=max(5.0, step.duration / 4))
        step.other_cores = whole.others(server, generator)
        step.wall = server.wall
        step.server_cpu, step.server_cores = server.cpu, server.cores
        step.server_rss, step.server_peak_rss = server.rss, server.peak_rss
        step.generator_cores = generator.cores
        self.receipts = self.fleet.collect(self.receipts)
        result = score(step.posts, self.receipts, audience.recipients, self.nodes())
        step.figures = result.summary()
        step.figures["deliveries_per_s"] = round(result.delivered / server.wall)
        step.figures["server_cpu_us_per_delivery"] = round(
            server.cpu / max(1, result.delivered) * 1e6, 1
        )
        return step

    async def _send(self, posts: list[Post]) -> float:
        poster = self.poster()
        if isinstance(poster, WsPoster):
            await poster.open()
        try:
            return await run_open_loop(poster, posts)
        finally:
            await poster.close()


def addressed_posts(posts: Sequence[Post], audience: Audience) -> dict[str, int]:
    conversations = {room_id for room_id, _ in audience.conversations}
    return {
        "direct": sum(post.room_id in conversations for post in posts),
        "mentions": sum(bool(post.mention) for post in posts),
    }


def addressed_line(addressed: dict[str, int], total: int) -> str:
    share = (addressed["direct"] + addressed["mentions"]) / max(1, total)
    return (
        f"{addressed['direct']} direct messages, {addressed['mentions']} @mentions "
        f"({share:.0%} of {total})"
    )


def by_node_rows(kind: str, figures: dict[str, Any]) -> list[tuple[str, str]]:
    """With several nodes: latency to recipients on the post's own node and on the others
    (over Redis, both go out through the same channel; see one_room for the cost of that)."""
    if "cross_node_latency" not in figures:
        return []
    same, cross = figures["same_node_latency"], figures["cross_node_latency"]
    return [
        (
            f"{kind}: latency by node",
            f"same node p50 {same['p50_ms']} / p99 {same['p99_ms']} ms; "
            f"other node p50 {cross['p50_ms']} / p99 {cross['p99_ms']} ms",
        )
    ]


def step_rows(kind: str, step: Step, session: Session) -> list[tuple[str, str]]:
    f = step.figures
    lat = f["latency"]
    return [
        (
            f"{kind}: clients",
            f"{session.connect['connected']} connected in {session.connect['seconds']} s; "
            f"quiet after {session.connect['settled_seconds']} s "
            f"({session.connect['presence_frames']} presence frames, "
            f"{session.connect['server_cpu_seconds']} s server CPU)",
        ),
        (
            f"{kind}: messages",
            f"{len(step.posts)} posted at {step.rate:g}/s for "
            f"{step.duration:g} s ({f['failed_posts']} failed posts, "
            f"{f['retried_posts']} retried after 429 busy)"
            + (f"; errors: {f['post_errors']}" if f["post_errors"] else ""),
        ),
        (f"{kind}: deliveries", f"{f['delivered']} of {f['expected']} ({f['deliveries_per_s']}/s)"),
        (
            f"{kind}: latency",
            f"p50 {lat['p50_ms']} ms  p90 {lat['p90_ms']} ms  "
            f"p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms",
        ),
        *by_node_rows(kind, f),
        (
            f"{kind}: post ack",
            f"p50 {f['post_ack']['p50_ms']} ms  p99 {f['post_ack']['p99_ms']} ms",
        ),
        (
            f"{kind}: lost / duplicated / unexpected",
            f"{f['lost']} lost / {f['duplicated']} duplicated / {f['unexpected']} unexpected",
        ),
        (
            f"{kind}: server CPU",
            f"{step.server_cores * 100:.0f}% of a core "
            f"({f['server_cpu_us_per_delivery']} µs per delivery)",
        ),
        (
            f"{kind}: server RSS",
            f"{mib(step.server_rss)} (peak {mib(step.server_peak_rss)}, "
            f"idle before clients {mib(session.idle_rss)})",
        ),
        (
            f"{kind}: load generator CPU",
            f"{step.generator_cores * 100:.0f}% of a core "
            f"({session.args.processes} client processes + sender; "
            f"sender lag max {step.sender_lag * 1000:.0f} ms)",
        ),
        (
            f"{kind}: other processes on the machine",
            f"{step.other_cores * 100:.0f}% of a core (not ours; disturbs latency when high)",
        ),
    ]


@contextmanager
def prepared(
    args: argparse.Namespace, name: str, shape: Shape | None = None
) -> Iterator[tuple[Path, Provisioned]]:
    """Skip checks, pinning, the run directory and a fresh database copy."""
    problem = multi_node_available(args)
    if problem:
        print(f"SKIP: {problem}")
        sys.exit(0)
    pin_self(generator_cores(args))
    with run_directory(args, name) as run_dir:
        shape = shape or Shape(args.branches, args.clerks)
        provisioned = provision(shape, run_dir, database_url=args.database_url)
        try:
            yield run_dir, provisioned
        finally:
            provisioned.drop()


def targets(args: argparse.Namespace) -> list[str]:
    chosen = [kind.strip() for kind in args.targets.split(",") if kind.strip()]
    unknown = set(chosen) - set(KINDS)
    if unknown:
        raise SystemExit(f"unknown --targets {sorted(unknown)}; choose from {KINDS}")
    return chosen


def fanout_arguments(description: str) -> argparse.ArgumentParser:
    parser = arguments(description)
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--clerks", type=int, default=20, help="clerks per branch")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument(
        "--compression",
        choices=["deflate", "none"],
        default="deflate",
        help="permessage-deflate as browsers negotiate it (default), or none",
    )
    parser.add_argument(
        "--reader",
        choices=["lean", "websockets"],
        default="lean",
        help="the clients' WebSocket reader: lean (bench/leanstream.py, receipt timed as the "
        "bytes arrive; default) or websockets (the library's client, the older instrument)",
    )
    parser.add_argument(
        "--targets",
        default=",".join(KINDS),
        help="what to measure, in order: counterline, baseline or both (default)",
    )
    return parser


def main() -> None:
    parser = fanout_arguments(__doc__.split("\n")[0])
    parser.add_argument("--branch-rate", type=float, default=45.0)
    parser.add_argument("--company-rate", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument(
        "--addressed",
        type=float,
        default=0.10,
        help="share of posts that are direct messages or @mentions (default 0.10)",
    )
    args = parser.parse_args()
    if args.short:
        args.branches, args.clerks, args.processes, args.duration = 5, 20, 2, 2.0
    header("fan-out: branch day")
    results: dict[str, Any] = {}
    failures = []
    shape = Shape(args.branches, args.clerks, conversations_per_branch=DIRECT_PAIRS_PER_BRANCH)
    with prepared(args, "fanout", shape) as (run_dir, provisioned):
        kinds = targets(args)
        for kind in kinds:
            with Session(args, run_dir, provisioned, kind) as session:
                streams = session.audience.branch_day(
                    args.branch_rate, args.company_rate, args.addressed
                )
                step = session.run(Step(args.duration, streams))
            report(step_rows(kind, step, session))
            addressed = addressed_posts(step.posts, session.audience)
            report([(f"{kind}: addressed posts", addressed_line(addressed, len(step.posts)))])
            f = step.figures
            if f["lost"] or f["duplicated"] or f["unexpected"] or f["failed_posts"]:
                failures.append(kind)
            results[kind] = {
                **f,
                "server_cores": round(step.server_cores, 3),
                "server_rss_mib": round(step.server_rss / 2**20, 1),
                "server_idle_rss_mib": round(session.idle_rss / 2**20, 1),
                "generator_cores": round(step.generator_cores, 3),
                "other_cores": round(step.other_cores, 3),
                "clients": session.connect["connected"],
                "addressed": addressed,
            }
            if kind == "counterline":
                check = check_store(provisioned.database_url, step.posts)
                report([("counterline: store check", check.line())])
                results[kind]["store_ok"] = check.ok
                if not check.ok:
                    failures.append("store")
    if "baseline" in results and "counterline" in results:
        c, b = results["counterline"], results["baseline"]
        report(
            [
                (
                    "ratio p50 (counterline / baseline)",
                    f"{c['latency']['p50_ms'] / max(b['latency']['p50_ms'], 0.01):.1f}x",
                ),
                (
                    "ratio p99 (counterline / baseline)",
                    f"{c['latency']['p99_ms'] / max(b['latency']['p99_ms'], 0.01):.1f}x",
                ),
                (
                    "ratio server CPU (counterline / baseline)",
                    f"{c['server_cores'] / max(b['server_cores'], 0.001):.1f}x",
                ),
            ]
        )
    emit_json("fanout", results)
    if failures:
        print(f"FAILED: lost, duplicated, unexpected or unstored messages in {failures}")
        sys.exit(1)


if __name__ == "__main__":
    main()
