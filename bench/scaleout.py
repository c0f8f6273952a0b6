"""Scale-out on paper: what each Counterline node, Redis and PostgreSQL spend per message
with 1, 2 and 3 nodes, and what that projects for 1, 2, 4 and 8 nodes.

Two nodes can't show 1.8x one node's throughput on 2 shared cores, so this measures what
scales instead. Fixed workload per run: 1,000 clerks (50 branch rooms x 20) connected
round-robin over the nodes, 25 posts/s into random branch rooms for 60 s (each post to one
node, round-robin), then 1 post/s into the company room (every clerk) for 30 s. Every node
is pinned to core 0 (``taskset``), the load generators to the other core(s); PostgreSQL and
Redis run where they run. Per run and step: each node's CPU per delivery to its own sockets
and per post, its idle CPU (clients connected, nothing posted), Redis CPU (``INFO cpu``)
and commands/bytes (``INFO stats``, ``INFO commandstats``) per message, the CPU of the run
database's PostgreSQL backends (``/proc/<pid>/stat``), its commits and rows written
(``pg_stat_database``) and WAL bytes per message (``pg_waldump`` over the window in slices,
the records of this database only, when the WAL is readable here; always also the cluster's
whole ``pg_current_wal_flush_lsn`` delta, which other users of the server inflate).

Baseline, same run: one node with the in-memory broker on the same PostgreSQL database,
so what crossing Redis adds is visible. The store check covers every run (0 lost, 0
duplicated, every acknowledged post stored). From the Redis runs a linear model is fitted
(server CPU per post = p + recipients x d + nodes x e) and projected.

    # full, with a private redis-server (so INFO is this run's alone):
    .venv/bin/python -m bench.scaleout --own-redis \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    # CI:
    .venv/bin/python -m bench.scaleout --short --database-url ... --redis-url redis://...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench.fanout import Session, Step, fanout_arguments, prepared
from bench.harness import (
    cpu_seconds,
    emit_json,
    free_port,
    generator_cores,
    header,
    pinned,
    report,
)
from bench.seed import Provisioned, Shape, _pg_execute, provision
from bench.sender import Post, node_of
from bench.targets import check_store

MEMORY = "1 node, in-memory broker"
UTILISATION = 0.7  # the share of a core the projection lets each process use
DAY_POSTS_PER_CLERK = 0.01  # bench.day: 20 posts/s for 2,000 clerks
DAY_COMPANY_SHARE = 0.05  # bench.day: 5 % of posts into the company room
REDIS_COUNTERS = ("total_commands_processed", "total_net_input_bytes", "total_net_output_bytes")
PG_COUNTERS = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted")
PG_COUNTERS_SQL = (
    "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted"
    " FROM pg_stat_database WHERE datname = $1"
)


def label(nodes: int) -> str:
    return f"{nodes} node{'s' if nodes > 1 else ''}, Redis"


# ---------------------------------------------------------------- Redis


@contextlib.contextmanager
def own_redis(run_dir: Path, cores: str | None) -> Iterator[str]:
    """A private redis-server on a free port (no persistence), so its INFO is ours alone."""
    binary = shutil.which("redis-server")
    if binary is None:
        print("SKIP: --own-redis needs redis-server on PATH")
        sys.exit(0)
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(run_dir)]
    with (run_dir / "redis.log").open("ab") as log:
        process = subprocess.Popen(pinned(command, cores), stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError as error:
                if time.monotonic() > deadline or process.poll() is not None:
                    log = run_dir / "redis.log"
                    raise RuntimeError(f"redis-server did not start; see {log}") from error
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def redis_counters(url: str) -> dict[str, float]:
    """Redis's CPU seconds, commands, bytes in and out, and calls per command so far."""
    client = redis.Redis.from_url(url)
    try:
        info = client.info("everything")  # one command: cpu, stats and commandstats
    finally:
        client.close()
    counters = {"cpu": float(info["used_cpu_user"]) + float(info["used_cpu_sys"])}
    counters.update({name: float(info[name]) for name in REDIS_COUNTERS})
    for name, values in info.items():
        if name.startswith("cmdstat_"):
            counters[name.removeprefix("cmdstat_")] = float(values["calls"])
    return counters


# ---------------------------------------------------------------- PostgreSQL


class Postgres:
    """Readings of one run database on a local PostgreSQL server (through the admin URL)."""

    def __init__(self, provisioned: Provisioned) -> None:
        self.admin_url = provisioned.admin_url
        self.name = provisioned.name
        self.oid = int(self._one("SELECT oid FROM pg_database WHERE datname = $1", self.name))
        self.waldump = self._waldump()

    def _rows(self, sql: str, *args: Any) -> list[Any]:
        return asyncio.run(_pg_execute(self.admin_url, sql, *args))

    def _one(self, sql: str, *args: Any) -> Any:
        return self._rows(sql, *args)[0][0]

    def _waldump(self) -> tuple[str, str] | None:
        """(pg_waldump, pg_wal directory) when this process can read the server's WAL."""
        with contextlib.suppress(Exception):
            data = Path(self._one("SHOW data_directory")) / "pg_wal"
            bindir = self._one("SELECT setting FROM pg_config WHERE name = 'BINDIR'")
            tool = Path(bindir) / "pg_waldump"
            if tool.exists() and os.access(data, os.R_OK | os.X_OK):
                return str(tool), str(data)
        return None

    def backend_cpu(self) -> dict[int, float]:
        """CPU seconds so far of each backend connected to the run database."""
        pids = self._rows("SELECT pid FROM pg_stat_activity WHERE datname = $1", self.name)
        return {row[0]: cpu_seconds([row[0]]) for row in pids}

    def counters(self) -> dict[str, float]:
        row = self._rows(PG_COUNTERS_SQL, self.name)
        return {name: float(row[0][name]) for name in PG_COUNTERS}

    def wal_lsn(self) -> str:
        return str(self._one("SELECT pg_current_wal_flush_lsn()::text"))

    def dump(self, start: str, end: str, mine_tx: set[int]) -> tuple[int, int] | None:
        """This database's WAL bytes and records between two LSNs (by ``pg_waldump``: the
        records touching its relations and every record of their transactions, commits
        included), or None when the WAL is not readable (any more)."""
        if self.waldump is None:
            return None
        tool, directory = self.waldump
        dumped = subprocess.run(
            [tool, "-p", directory, "-s", start, "-e", end],
            capture_output=True,
            text=True,
            check=False,
        )
        if dumped.returncode != 0:
            return None
        ours, records = f"/{self.oid}/", []
        for line in dumped.stdout.splitlines():
            match = WAL_RECORD.search(line)
            if match is None:
                continue
            size, tx = int(match["tot"]), int(match["tx"])
            in_database = ours in line and bool(RELATION.search(line))
            if in_database and tx:
                mine_tx.add(tx)
            records.append((size, tx, in_database))
        mine = [size for size, tx, here in records if here or (tx and tx in mine_tx)]
        return sum(mine), len(mine)


class WalReader:
    """WAL written over a window: the cluster's (LSN delta) and this database's, read in
    slices every few seconds while it is fresh: a checkpoint (other users of the server
    drop databases) recycles segments, and a slice it took makes the figure n/a, not 0."""

    def __init__(self, postgres: Postgres, every: float = 3.0) -> None:
        self.postgres = postgres
        self.every = every
        self.mine_tx: set[int] = set()
        self.bytes = self.records = 0
        self.complete = postgres.waldump is not None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> WalReader:
        self.start = self.last = self.postgres.wal_lsn()
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._slice()

    def _slice(self) -> None:
        end = self.postgres.wal_lsn()
        if end == self.last:
            return
        if self.complete:
            found = self.postgres.dump(self.last, end, self.mine_tx)
            if found is None:
                self.complete = False
            else:
                self.bytes += found[0]
                self.records += found[1]
        self.last = end

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._slice()

    def figures(self) -> dict[str, float]:
        found = {"cluster_bytes": float(lsn_bytes(self.last) - lsn_bytes(self.start))}
        if self.complete:
            found["database_bytes"] = float(self.bytes)
            found["database_records"] = float(self.records)
        return found


def lsn_bytes(lsn: str) -> int:
    """A WAL position ``X/Y`` (hex) as a byte offset."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


WAL_RECORD = re.compile(r"len \(rec/tot\):\s*\d+/\s*(?P<tot>\d+), tx:\s*(?P<tx>\d+)")
RELATION = re.compile(r"rel \d+/\d+/\d+")


# ---------------------------------------------------------------- one measured step


@dataclass
class Reading:
    """Counters at one moment: each node's CPU, the database's backends, Redis."""

    nodes: list[float]
    backends: dict[int, float]
    redis: dict[str, float]
    at: float = field(default_factory=time.monotonic)


def read(session: Session, postgres: Postgres, redis_url: str) -> Reading:
    return Reading(
        [cpu_seconds(server.pids()) for server in session.servers],
        postgres.backend_cpu(),
        redis_counters(redis_url) if redis_url else {},
    )


def backend_seconds(before: dict[int, float], after: dict[int, float]) -> float:
    """Backends that appeared meanwhile started meanwhile: all their CPU counts."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def deliveries_by_node(session: Session, posts: Sequence[Post]) -> list[int]:
    urls = [server.ws_url for server in session.servers]
    node = [urls.index(url) for _, url in session.audience.connections]
    counts = [0] * len(urls)
    for post in posts:
        if post.status in (200, 201):
            for connection in session.audience.recipients[post.room_id]:
                counts[node[connection]] += 1
    return counts


def measure(
    session: Session,
    postgres: Postgres,
    redis_url: str,
    step: Step,
    idle: Idle,
    stats_wait: float,
) -> dict[str, Any]:
    """Run the step between two readings; per node, Redis and PostgreSQL figures."""
    pg_before = postgres.counters()
    before = read(session, postgres, redis_url)
    with WalReader(postgres) as wal_reader:
        session.run(step)
    after = read(session, postgres, redis_url)
    wall = after.at - before.at
    wal = wal_reader.figures()
    time.sleep(stats_wait)  # backends report their counters when idle, at most once a second
    pg_after = postgres.counters()
    posts = [post for post in step.posts if post.status in (200, 201)]
    count = max(1, len(posts))
    nodes = len(session.servers)
    taken = [sum(1 for post in posts if node_of(post, nodes) == n) for n in range(nodes)]
    delivered = deliveries_by_node(session, posts)
    node_rows = []
    for n in range(nodes):
        cpu = after.nodes[n] - before.nodes[n]
        net = max(0.0, cpu - idle.nodes[n] * wall)
        node_rows.append(
            {
                "cpu_s": round(cpu, 3),
                "cores": round(cpu / wall, 3),
                "idle_cores": round(idle.nodes[n], 4),
                "posts_taken": taken[n],
                "deliveries": delivered[n],
                "us_per_delivery": round(cpu / max(1, delivered[n]) * 1e6, 1),
                "ms_per_post_taken": round(cpu / max(1, taken[n]) * 1e3, 3),
                "net_us_per_delivery": round(net / max(1, delivered[n]) * 1e6, 1),
            }
        )
    servers_cpu = sum(after.nodes) - sum(before.nodes)
    servers_net = max(0.0, servers_cpu - sum(idle.nodes) * wall)
    figures: dict[str, Any] = {
        **step.figures,
        "posts": len(posts),
        "wall_s": round(wall, 2),
        "nodes": node_rows,
        "servers_ms_per_post": round(servers_cpu / count * 1e3, 3),
        "servers_net_ms_per_post": round(servers_net / count * 1e3, 3),
        "recipients_per_post": round(sum(delivered) / count, 2),
        "other_cores": round(step.other_cores, 3),
        "generator_cores": round(step.generator_cores, 3),
    }
    pg_cpu = backend_seconds(before.backends, after.backends)
    figures["postgres"] = {
        "backends": len(after.backends),
        "backend_us_per_post": round(pg_cpu / count * 1e6, 1),
        "backend_cores": round(pg_cpu / wall, 3),
        **{
            f"{name}_per_post": round((pg_after[name] - pg_before[name]) / count, 3)
            for name in PG_COUNTERS
        },
        "cluster_wal_bytes_per_post": round(wal["cluster_bytes"] / count),
    }
    if "database_bytes" in wal:
        figures["postgres"]["wal_bytes_per_post"] = round(wal["database_bytes"] / count)
        figures["postgres"]["wal_records_per_post"] = round(wal["database_records"] / count, 2)
    if redis_url:
        delta = {k: after.redis.get(k, 0.0) - before.redis.get(k, 0.0) for k in after.redis}
        # Not the application's: these readings' own INFO and connection HELLO.
        readings = delta.get("info", 0.0) + delta.get("hello", 0.0)
        delta["total_commands_processed"] -= readings
        commands = sorted(
            (
                (k, v)
                for k, v in delta.items()
                if k not in ("cpu", "info", "hello", *REDIS_COUNTERS) and v > 0
            ),
            key=lambda item: -item[1],
        )
        background = {k: idle.redis.get(k, 0.0) * wall for k in ("cpu", *REDIS_COUNTERS)}
        figures["redis"] = {
            "us_per_post": round(delta["cpu"] / count * 1e6, 1),
            "net_us_per_post": round(max(0.0, delta["cpu"] - background["cpu"]) / count * 1e6, 1),
            "idle_cores": round(idle.redis.get("cpu", 0.0), 4),
            "net_commands_per_post": round(
                (delta["total_commands_processed"] - background["total_commands_processed"])
                / count,
                2,
            ),
            "cores": round(delta["cpu"] / wall, 4),
            "commands_per_post": round(delta["total_commands_processed"] / count, 2),
            "bytes_in_per_post": round(delta["total_net_input_bytes"] / count),
            "bytes_out_per_post": round(delta["total_net_output_bytes"] / count),
            "top_commands_per_post": {k: round(v / count, 2) for k, v in commands[:5]},
        }
    return figures


@dataclass
class Idle:
    """With every client connected and nothing posted (heartbeats, presence, timers): each
    node's cores, and Redis's counters per second; subtracted to get the messages' cost."""

    nodes: list[float]
    redis: dict[str, float]


def idle_load(session: Session, redis_url: str, seconds: float) -> Idle:
    pids = [server.pids() for server in session.servers]
    redis_before = redis_counters(redis_url) if redis_url else {}
    before, started = [cpu_seconds(p) for p in pids], time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - started
    nodes = [(cpu_seconds(p) - b) / wall for p, b in zip(pids, before, strict=True)]
    redis_after = redis_counters(redis_url) if redis_url else {}
    readings = sum(redis_after.get(k, 0.0) - redis_before.get(k, 0.0) for k in ("info", "hello"))
    rates = {k: (v - redis_before.get(k, 0.0)) / wall for k, v in redis_after.items()}
    if rates:
        rates["total_commands_processed"] -= readings / wall
    return Idle(nodes, rates)


# ---------------------------------------------------------------- the model


def solve(rows: Sequence[Sequence[float]], values: Sequence[float]) -> list[float]:
    """Least squares for a few unknowns (normal equations, Gaussian elimination)."""
    size = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(size)] for i in range(size)]
    b = [sum(r[i] * v for r, v in zip(rows, values, strict=True)) for i in range(size)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(a[r][col]))
        a[col], a[pivot], b[col], b[pivot] = a[pivot], a[col], b[pivot], b[col]
        if abs(a[col][col]) < 1e-12:
            return [float("nan")] * size
        for r in range(size):
            if r != col:
                factor = a[r][col] / a[col][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col], strict=True)]
                b[r] -= factor * b[col]
    return [b[i] / a[i][i] for i in range(size)]


def fit(results: dict[str, Any], runs: Sequence[int]) -> dict[str, float]:
    """Server CPU per post (idle subtracted) = p + recipients x d + nodes x e, over every
    Redis run and step. Redis CPU per post = r0 + nodes x r1 and PostgreSQL per post (mean)
    from the branch step: its 50x more posts than the company step's make the background
    (presence beats, jobs) a small share of it."""
    rows, values, redis_rows, redis_values, pg, wal = [], [], [], [], [], []
    for nodes in runs:
        for figures in results[label(nodes)].values():
            rows.append((1.0, figures["recipients_per_post"], float(nodes)))
            values.append(figures["servers_net_ms_per_post"] / 1e3)
        branch = results[label(nodes)]["branch"]
        redis_rows.append((1.0, float(nodes)))
        redis_values.append(branch["redis"]["net_us_per_post"] / 1e6)
        pg.append(branch["postgres"]["backend_us_per_post"] / 1e6)
        if "wal_bytes_per_post" in branch["postgres"]:
            wal.append(branch["postgres"]["wal_bytes_per_post"])
    p, d, e = solve(rows, values)
    r0, r1 = solve(redis_rows, redis_values) if len(set(runs)) > 1 else (redis_values[0], 0.0)
    idle = [node["idle_cores"] for n in runs for node in results[label(n)]["branch"]["nodes"]]
    return {
        "post_s": p,
        "delivery_s": d,
        "event_per_node_s": e,
        "redis_s": r0,
        "redis_per_subscriber_s": r1,
        "postgres_s": sum(pg) / len(pg),
        "wal_bytes": sum(wal) / len(wal) if wal else float("nan"),
        "idle_cores_per_node": sum(idle) / len(idle),
    }


def node_bound_rate(model: dict[str, float], nodes: int, recipients: float) -> float:
    """Posts/s at which each node reaches UTILISATION: (p + R d)/N + e per post."""
    per_post = (model["post_s"] + recipients * model["delivery_s"]) / nodes + max(
        0.0, model["event_per_node_s"]
    )
    return UTILISATION / per_post if per_post > 0 else math.inf


def node_bound_clerks(model: dict[str, float], nodes: int, branch: int, clerks_idle: float) -> int:
    """Clerks at the day's rate (0.01 posts/s each, 5 % to everyone) a node holds at
    UTILISATION: a quadratic, since a company-room post reaches every clerk."""
    m, share = DAY_POSTS_PER_CLERK, DAY_COMPANY_SHARE
    p, d, e = model["post_s"], model["delivery_s"], max(0.0, model["event_per_node_s"])
    quadratic = m * share * d / nodes
    linear = m * (p + (1 - share) * branch * d) / nodes + m * e + clerks_idle / nodes
    if quadratic <= 0:
        return int(UTILISATION / linear)
    return int((-linear + math.sqrt(linear**2 + 4 * quadratic * UTILISATION)) / (2 * quadratic))


def projection(measured: dict[str, float], branch: int, clerks_idle: float) -> list[dict[str, Any]]:
    """Per node count: branch-room posts/s and clerks at the day's rate that the nodes hold
    at UTILISATION, capped by Redis (one thread at UTILISATION), and the PostgreSQL cores
    (at UTILISATION) that rate needs. A cost the noise fitted below zero counts as zero."""
    model = {name: max(0.0, value) for name, value in measured.items()}
    rows = []
    for nodes in (1, 2, 4, 8):
        redis_per_post = model["redis_s"] + nodes * model["redis_per_subscriber_s"]
        # No Redis cost measured (one node, or the noise fitted it to zero): no Redis cap.
        redis_ceiling = UTILISATION / redis_per_post if redis_per_post > 0 else None
        nodes_rate = node_bound_rate(model, nodes, branch)
        rate = nodes_rate if redis_ceiling is None else min(nodes_rate, redis_ceiling)
        clerks = node_bound_clerks(model, nodes, branch, clerks_idle)
        if redis_ceiling is not None:
            clerks = min(clerks, int(redis_ceiling / DAY_POSTS_PER_CLERK))
        day_rate = clerks * DAY_POSTS_PER_CLERK
        rows.append(
            {
                "nodes": nodes,
                "branch_posts_per_s_nodes": round(nodes_rate),
                # The same if e (every node's cost per post in the cluster) were ~0.
                "branch_posts_per_s_nodes_without_e": round(
                    node_bound_rate({**model, "event_per_node_s": 0.0}, nodes, branch)
                ),
                "redis_ceiling_posts_per_s": None
                if redis_ceiling is None
                else round(redis_ceiling),
                "branch_posts_per_s": round(rate),
                "limited_by": "nodes" if rate == nodes_rate else "Redis",
                "postgres_cores": round(rate * model["postgres_s"] / UTILISATION, 2),
                "day_clerks": clerks,
                "day_posts_per_s": round(day_rate, 1),
                "day_postgres_cores": round(day_rate * model["postgres_s"] / UTILISATION, 2),
                "day_wal_kib_per_s": round(day_rate * model["wal_bytes"] / 1024, 1),
            }
        )
    return rows


# ---------------------------------------------------------------- report


def rows_of(name: str, figures: dict[str, Any]) -> list[tuple[str, str]]:
    lat = figures["latency"]
    rows = [
        (
            f"{name}: messages",
            f"{figures['posts']} posted in {figures['wall_s']} s, "
            f"{figures['delivered']} of {figures['expected']} delivered "
            f"({figures['recipients_per_post']} per post); {figures['lost']} lost / "
            f"{figures['duplicated']} duplicated / {figures['unexpected']} unexpected; "
            f"latency p50 {lat['p50_ms']} / p99 {lat['p99_ms']} ms",
        )
    ]
    for n, node in enumerate(figures["nodes"]):
        rows.append(
            (
                f"{name}: node {n} CPU",
                f"{node['cores'] * 100:.1f}% of a core (idle {node['idle_cores'] * 100:.1f}%); "
                f"{node['us_per_delivery']} µs per delivery to its {node['deliveries']} "
                f"({node['net_us_per_delivery']} µs net of idle); "
                f"{node['ms_per_post_taken']} ms per post it took ({node['posts_taken']})",
            )
        )
    rows.append(
        (
            f"{name}: all nodes per post",
            f"{figures['servers_ms_per_post']} ms CPU "
            f"({figures['servers_net_ms_per_post']} ms net of idle)",
        )
    )
    if "redis" in figures:
        r = figures["redis"]
        rows.append(
            (
                f"{name}: Redis per post",
                f"{r['us_per_post']} µs CPU ({r['net_us_per_post']} µs net of idle "
                f"{r['idle_cores'] * 100:.2f}%; {r['cores'] * 100:.1f}% of a core), "
                f"{r['commands_per_post']} commands ({r['net_commands_per_post']} net of idle), "
                f"{r['bytes_in_per_post']} B in / "
                f"{r['bytes_out_per_post']} B out; commands {r['top_commands_per_post']}",
            )
        )
    pg = figures["postgres"]
    wal = (
        f"{pg['wal_bytes_per_post']} B WAL ({pg['wal_records_per_post']} records, this "
        f"database's; whole cluster {pg['cluster_wal_bytes_per_post']} B)"
        if "wal_bytes_per_post" in pg
        else f"this database's WAL n/a; {pg['cluster_wal_bytes_per_post']} B WAL per post "
        "over the whole cluster, others included"
    )
    rows.append(
        (
            f"{name}: PostgreSQL per post",
            f"{pg['backend_us_per_post']} µs backend CPU ({pg['backends']} backends, "
            f"{pg['backend_cores'] * 100:.1f}% of a core); {pg['xact_commit_per_post']} commits, "
            f"{pg['tup_inserted_per_post']} rows inserted / {pg['tup_updated_per_post']} "
            f"updated / {pg['tup_deleted_per_post']} deleted; {wal}",
        )
    )
    rows.append(
        (
            f"{name}: machine",
            f"load generator {figures['generator_cores'] * 100:.0f}% of a core; "
            f"other processes {figures['other_cores'] * 100:.0f}% of a core (not ours)",
        )
    )
    return rows


def model_rows(model: dict[str, float], table: list[dict[str, Any]]) -> list[tuple[str, str]]:
    rows = [
        (
            "model: node CPU per post",
            f"p {model['post_s'] * 1e3:.3f} ms (taking the post) + recipients x "
            f"d {model['delivery_s'] * 1e6:.1f} µs + nodes x e "
            f"{model['event_per_node_s'] * 1e6:.1f} µs (every node reads every event); "
            f"idle {model['idle_cores_per_node'] * 100:.2f}% of a core per node",
        ),
        (
            "model: Redis CPU per post",
            f"{model['redis_s'] * 1e6:.1f} µs + nodes x "
            f"{model['redis_per_subscriber_s'] * 1e6:.1f} µs",
        ),
        (
            "model: PostgreSQL per post",
            f"{model['postgres_s'] * 1e6:.0f} µs backend CPU, {model['wal_bytes']:.0f} B WAL",
        ),
    ]
    for row in table:
        rows.append(
            (
                f"projection: {row['nodes']} node{'s' if row['nodes'] > 1 else ''}",
                f"branch-room posts/s {row['branch_posts_per_s']} (nodes "
                f"{row['branch_posts_per_s_nodes']}, without e "
                f"{row['branch_posts_per_s_nodes_without_e']}, "
                f"Redis {row['redis_ceiling_posts_per_s']}: "
                f"{row['limited_by']}; PostgreSQL cores {row['postgres_cores']}); "
                f"clerks at the day's rate {row['day_clerks']} ({row['day_posts_per_s']} "
                f"posts/s, PostgreSQL cores {row['day_postgres_cores']}, "
                f"WAL {row['day_wal_kib_per_s']} KiB/s)",
            )
        )
    return rows


# ---------------------------------------------------------------- main


@contextlib.contextmanager
def fresh_database(
    args: argparse.Namespace, run_dir: Path, shape: Shape, first: Provisioned, number: int
) -> Iterator[Provisioned]:
    """Each run on its own copy of the template: the same starting point, its own
    pg_stat_database row, and a cross-node probe whose post is new there (the probe's
    client id is fixed, so a second probe on one database is a duplicate nobody hears)."""
    if number == 0:
        yield first
        return
    provisioned = provision(shape, run_dir / f"run-{number}", database_url=args.database_url)
    try:
        yield provisioned
    finally:
        provisioned.drop()


def one_run(
    name: str,
    settings: argparse.Namespace,
    run_dir: Path,
    provisioned: Provisioned,
    number: int,
    stats_wait: float,
    failures: list[str],
) -> dict[str, Any]:
    """Idle, then the branch-room step, then the company-room step; the store check."""
    results: dict[str, Any] = {}
    posts: list[Post] = []
    first_seq = 1 + number * 10**8
    with Session(settings, run_dir, provisioned, "counterline", first_seq=first_seq) as session:
        postgres = Postgres(provisioned)
        if number == 0:
            wal = "pg_waldump (this database's records)" if postgres.waldump else "cluster LSN"
            print(f"postgres WAL: {wal}")
        idle = idle_load(session, settings.redis_url, settings.idle)
        steps = {
            "branch": Step(settings.duration, session.audience.branch_day(settings.rate, 0.0)[:1]),
            "company": Step(
                settings.company_duration, [(settings.company_rate, [session.audience.company])]
            ),
        }
        for kind, step in steps.items():
            figures = measure(session, postgres, settings.redis_url, step, idle, stats_wait)
            results[kind] = figures
            posts.extend(step.posts)
            report(rows_of(f"{name}, {kind}", figures))
            if figures["lost"] or figures["duplicated"] or figures["unexpected"]:
                failures.append(f"{name} {kind}")
            if figures["failed_posts"]:
                failures.append(f"{name} {kind}: failed posts")
    check = check_store(provisioned.database_url, posts)
    report([(f"{name}: store check", check.line())])
    results["store_ok"] = check.ok
    if not check.ok:
        failures.append(f"{name}: store")
    return results


def runs_of(args: argparse.Namespace) -> list[tuple[str, argparse.Namespace]]:
    """The in-memory single node first (the reference), then 1..N nodes over Redis."""
    chosen = [(MEMORY, argparse.Namespace(**{**vars(args), "nodes": 1, "redis_url": ""}))]
    for nodes in range(1, args.nodes + 1):
        chosen.append((label(nodes), argparse.Namespace(**{**vars(args), "nodes": nodes})))
    return chosen


def main() -> None:
    parser = fanout_arguments(__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=25.0, help="branch-room posts/s")
    parser.add_argument("--duration", type=float, default=60.0, help="branch-room seconds")
    parser.add_argument("--company-rate", type=float, default=1.0, help="company posts/s")
    parser.add_argument("--company-duration", type=float, default=30.0)
    parser.add_argument(
        "--idle", type=float, default=20.0, help="seconds measured idle (two presence beats)"
    )
    parser.add_argument(
        "--own-redis",
        action="store_true",
        help="start a private redis-server (so INFO counts this run alone)",
    )
    parser.set_defaults(nodes=3, processes=4, nodes_on_one_core=True)
    args = parser.parse_args()
    if args.short:
        args.branches, args.clerks, args.processes = 5, 20, 2
        args.rate, args.duration, args.company_rate, args.company_duration = 10.0, 2.0, 2.0, 1.0
        args.idle = 1.0
    stats_wait = 1.5 if args.short else 11.0
    if not args.database_url.startswith("postgresql") or not (args.redis_url or args.own_redis):
        print("SKIP: bench.scaleout needs --database-url postgresql+asyncpg://... and Redis")
        return
    header("scale-out on paper")
    results: dict[str, Any] = {}
    failures: list[str] = []
    with contextlib.ExitStack() as stack:
        if args.own_redis:
            redis_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clredis-")))
            args.redis_url = stack.enter_context(own_redis(redis_dir, generator_cores(args)))
        print(f"redis: {args.redis_url}{' (private)' if args.own_redis else ''}")
        shape = Shape(args.branches, args.clerks)
        with prepared(args, "scaleout", shape) as (run_dir, first):
            for number, (name, settings) in enumerate(runs_of(args)):
                with fresh_database(args, run_dir, shape, first, number) as provisioned:
                    results[name] = one_run(
                        name, settings, run_dir, provisioned, number, stats_wait, failures
                    )
    summary = crossing_rows(results)
    report(summary)
    redis_runs = list(range(1, args.nodes + 1))
    model = fit({k: _steps(v) for k, v in results.items()}, redis_runs)
    # Idle CPU (heartbeats, presence) per connected clerk, from the single Redis node.
    one_node_idle = results[label(1)]["branch"]["nodes"][0]["idle_cores"]
    table = projection(model, args.clerks, one_node_idle / (args.branches * args.clerks))
    report(model_rows(model, table))
    emit_json(
        "scaleout",
        {
            "runs": results,
            "model": {k: round(v, 9) for k, v in model.items()},
            "projection": table,
            "workload": {
                "clerks": args.branches * args.clerks,
                "branch_rooms": args.branches,
                "branch_rate": args.rate,
                "duration": args.duration,
                "company_rate": args.company_rate,
                "company_duration": args.company_duration,
            },
        },
    )
    if failures:
        print(f"FAILED: lost, duplicated, unexpected, failed or unstored posts in {failures}")
        sys.exit(1)


def _steps(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if isinstance(v, dict)}


def crossing_rows(results: dict[str, Any]) -> list[tuple[str, str]]:
    """What Redis adds on one node: CPU per post and latency against the in-memory broker."""
    rows = []
    for kind in ("branch", "company"):
        alone, over = results[MEMORY][kind], results[label(1)][kind]
        rows.append(
            (
                f"crossing Redis adds, one node, {kind}",
                f"{over['servers_ms_per_post'] - alone['servers_ms_per_post']:+.3f} ms node CPU "
                f"per post ({alone['servers_ms_per_post']} -> {over['servers_ms_per_post']}); "
                f"latency p50 {over['latency']['p50_ms'] - alone['latency']['p50_ms']:+.2f} / "
                f"p99 {over['latency']['p99_ms'] - alone['latency']['p99_ms']:+.2f} ms",
            )
        )
    return rows


if __name__ == "__main__":
    main()
