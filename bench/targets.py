"""Starting what is measured: Counterline node(s), the bare WebSocket baseline, the hello app;
and checking afterwards that the database holds exactly what was acknowledged."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from websockets.asyncio.client import connect

from bench.harness import Server, counterline_server, python_server, server_cores
from bench.manifest import Manifest
from bench.seed import Provisioned
from bench.sender import HttpPoster, Post, body_of, client_id
from counterline.config import Settings
from counterline.messages.models import Message
from counterline.services import Services

PROBE_SEQ = 999_999_999  # the cross-node probe's message; not part of any measurement


SHARED_CONNECTIONS = 60


def node_pool(nodes: int) -> dict[str, str]:
    """Each of ``nodes`` nodes' pool settings, so that together they hold at most
    ``SHARED_CONNECTIONS``: two thirds kept open, a third opened at peaks."""
    share = max(3, SHARED_CONNECTIONS // nodes)
    kept = share * 2 // 3
    return {
        "COUNTERLINE_DATABASE_POOL_SIZE": str(kept),
        "COUNTERLINE_DATABASE_MAX_OVERFLOW": str(share - kept),
    }


@contextmanager
def counterline_nodes(
    args: argparse.Namespace,
    run_dir: Path,
    provisioned: Provisioned,
    env: dict[str, str] | None = None,
) -> Iterator[list[Server]]:
    """``args.nodes`` Counterline processes on one database (and Redis when several). Several
    nodes share PostgreSQL's 100 connections with the other benchmarks CI runs beside them:
    each node's pool is cut to its share of 60 (docs/deploy.md, "Connections")."""
    if args.nodes > 1:
        env = {**node_pool(args.nodes), **(env or {})}
    servers: list[Server] = []
    try:
        for node in range(args.nodes):
            servers.append(
                counterline_server(
                    run_dir,
                    provisioned.database_url,
                    redis_url=args.redis_url,
                    cores=server_cores(args, node),
                    name=f"counterline-{node}",
                    env=env,
                    app=args.app,
                    profile=args.profile,
                )
            )
        if len(servers) > 1:
            problem = asyncio.run(cross_node_probe(servers, provisioned.manifest))
            if problem:
                print(f"SKIP multi-node: {problem}")
                sys.exit(0)
        yield servers
    finally:
        for server in servers:
            server.stop()


async def cross_node_probe(servers: Sequence[Server], manifest: Manifest) -> str | None:
    """Post on node 0 and expect the message on node 1 (live events cross nodes)."""
    listener = manifest.users[0]
    async with connect(
        servers[1].ws_url + "/api/v1/stream",
        additional_headers={"Authorization": f"Bearer {listener.token}"},
    ) as socket:
        while '"ready"' not in str(await asyncio.wait_for(socket.recv(), 10)):
            pass
        poster = HttpPoster([servers[0].url])
        probe = Post(PROBE_SEQ, 0, manifest.company_room_id, manifest.admin.token)
        await poster.post(probe)
        await poster.close()
        if probe.status not in (200, 201):
            return f"posting on node 0 failed: {probe.status} {probe.error}"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                frame = await asyncio.wait_for(socket.recv(), deadline - time.monotonic())
            except TimeoutError:
                break
            # Frames carry no client id: the probe is known by the id its POST answered.
            if json.loads(frame).get("message", {}).get("id") == probe.message_id:
                return None
    return "a message posted on node 0 did not reach node 1 in 5 s (no cross-node fan-out yet)"


@contextmanager
def baseline_server(
    args: argparse.Namespace, run_dir: Path, manifest: Manifest
) -> Iterator[Server]:
    path = run_dir / "manifest.json"
    path.write_text(manifest.to_json())
    server = python_server(
        run_dir,
        "baseline-ws",
        "bench.baseline_ws",
        ["--manifest", str(path)],
        cores=server_cores(args),
        ready_path="/health",
    )
    try:
        yield server
    finally:
        server.stop()


@dataclass
class StoreCheck:
    """Acknowledged posts compared with the messages table."""

    acknowledged: int = 0
    missing: int = 0
    duplicated: int = 0
    extra: int = 0
    mismatched: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.extra or self.mismatched)

    def line(self) -> str:
        return (
            f"{self.acknowledged} acknowledged posts: {self.missing} missing, "
            f"{self.duplicated} duplicated, {self.extra} extra, {self.mismatched} mismatched"
        )


def check_store(database_url: str, posts: Sequence[Post], *, prefix: str = "bench-") -> StoreCheck:
    """Every acknowledged post stored once, by id, body and room; nothing else stored."""
    return asyncio.run(_check_store(database_url, posts, prefix))


async def _check_store(database_url: str, posts: Sequence[Post], prefix: str) -> StoreCheck:
    services = Services.from_settings(Settings(database_url=database_url))
    try:
        async with services.reading() as unit:
            rows = (
                await unit.session.execute(
                    select(Message.id, Message.room_id, Message.client_id, Message.body).where(
                        Message.client_id.like(f"{prefix}%")
                    )
                )
            ).all()
    finally:
        await services.database.dispose()
    acked = {client_id(p.seq): p for p in posts if p.status in (200, 201)}
    check = StoreCheck(acknowledged=len(acked))
    seen: dict[str, int] = {}
    for row_id, room_id, cid, body in rows:
        if cid == client_id(PROBE_SEQ):
            continue
        seen[cid] = seen.get(cid, 0) + 1
        post = acked.get(cid)
        if post is None:
            check.extra += 1
        elif (
            row_id != post.message_id
            or room_id != post.room_id
            or body != body_of(post.seq, post.mention)
        ):
            check.mismatched += 1
    check.duplicated = sum(n - 1 for n in seen.values() if n > 1)
    check.missing = sum(1 for cid in acked if cid not in seen)
    return check
