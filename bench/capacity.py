"""Capacity: the most idle clients one server process holds with heartbeats (target
10,000) and its RSS per connection (target <= 30 KiB); then single messages into a
1,000-member room and into the company room with every client in it (10,000 members):
delivery p50/p99 and server CPU per delivery.

Every client is a different clerk (10,000 users, 500 branches), connected once, sending
``{"type": "ping"}`` every 20 s; the connections are held for ``--hold`` seconds (longer
than the server's 45 s heartbeat timeout in the full run). Baseline, same run: the same
clients on the bare ``websockets`` server; and (``--gc-compare``, on by default) Counterline
again with ``COUNTERLINE_GC_TUNING=false`` (Python's own collector settings), to show what
the collector tuning (src/counterline/ops/collector.py) does.

The clients read with the lean reader (bench/leanstream.py: receipt timed when the bytes
reach the generator, frames parsed with next to no per-frame cost), so the last of 10,000
receipts is not the load generator's own queue; ``--reader websockets`` gives the older
instrument, the ``websockets`` library's client (~30 µs per frame).

    .venv/bin/python -m bench.capacity            # full: 10,000 clients
    .venv/bin/python -m bench.capacity --short    # CI: 100 clients
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from collections.abc import Sequence
from typing import Any

from bench.fanout import Audience, Session, Step, fanout_arguments, prepared, targets
from bench.harness import MachineMeter, Meter, emit_json, header, mib, report
from bench.manifest import Manifest
from bench.seed import Shape

BIG_ROOM = "big-1000"
HEARTBEAT = 20.0


def everyone(manifest: Manifest, urls: Sequence[str]) -> Audience:
    big = manifest.topic_rooms[BIG_ROOM]
    members = set(big["member_ids"])
    connections = [(user.token, urls[i % len(urls)]) for i, user in enumerate(manifest.users)]
    return Audience(
        connections,
        {
            manifest.company_room_id: list(range(len(manifest.users))),
            big["id"]: [i for i, user in enumerate(manifest.users) if user.id in members],
        },
    )


GC_OFF = "counterline_gc_off"


def variants(args: argparse.Namespace) -> list[tuple[str, str, dict[str, str] | None, int | None]]:
    """(name, server kind, extra server settings, first sequence number) per measurement."""
    chosen: list[tuple[str, str, dict[str, str] | None, int | None]] = []
    for kind in targets(args):
        chosen.append((kind, kind, None, None))
        if kind == "counterline" and args.gc_compare:
            # Its own sequence numbers: the same client id would be the same message.
            chosen.append((GC_OFF, kind, {"COUNTERLINE_GC_TUNING": "false"}, 100_000_000))
    return chosen


def collector(kind: str, session: Session) -> dict[str, float] | None:
    """The server's garbage-collector counters from /metrics (Counterline only)."""
    if kind == "baseline":
        return None
    with urllib.request.urlopen(session.servers[0].url + "/metrics", timeout=30) as answer:
        text = answer.read().decode()
    figures = {}
    for line in text.splitlines():
        if line.startswith("counterline_gc_"):
            name, value = line.rsplit(" ", 1)
            figures[name] = float(value)
    return figures


def collector_line(before: dict[str, float] | None, after: dict[str, float] | None) -> str:
    """Collections and pause time between two readings: full (generation 2) and all."""
    if before is None or after is None:
        return ""

    def delta(metric: str, generations: tuple[int, ...]) -> float:
        return sum(
            after.get(f'{metric}{{generation="{g}"}}', 0)
            - before.get(f'{metric}{{generation="{g}"}}', 0)
            for g in generations
        )

    full = int(delta("counterline_gc_pause_seconds_count", (2,)))
    full_ms = delta("counterline_gc_pause_seconds_sum", (2,)) * 1000
    return (
        f"collector: {full} full collections ({full_ms:.0f} ms), "
        f"{int(delta('counterline_gc_pause_seconds_count', (0, 1, 2)))} in all, paused "
        f"{delta('counterline_gc_pause_seconds_sum', (0, 1, 2)) * 1000:.0f} ms "
        f"({delta('counterline_gc_cpu_seconds_sum', (0, 1, 2)) * 1000:.0f} ms CPU); "
        f"{int(after.get('counterline_gc_frozen_objects', 0)):,} objects frozen"
    )


def main() -> None:
    parser = fanout_arguments(__doc__.split("\n")[0])
    parser.add_argument("--hold", type=float, default=60.0, help="seconds to hold the clients")
    parser.add_argument("--messages", type=int, default=5, help="messages into each big room")
    parser.add_argument(
        "--history", type=int, default=0, help="messages already in the database (e.g. 1000000)"
    )
    parser.add_argument(
        "--gc-compare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure Counterline with COUNTERLINE_GC_TUNING=false (default: yes)",
    )
    parser.set_defaults(branches=500, clerks=20, processes=4)
    args = parser.parse_args()
    if args.short:
        args.branches, args.clerks, args.processes, args.hold, args.messages = 5, 20, 2, 1.0, 2
    clients = args.branches * args.clerks
    big_size = min(1000, clients // 2)
    shape = Shape(
        args.branches,
        args.clerks,
        topic_rooms=((BIG_ROOM, big_size),),
        history_messages=args.history,
    )
    header(
        f"capacity: {clients} idle clients with heartbeats, {args.history:,} messages stored; "
        "one message to big rooms"
    )
    results: dict[str, Any] = {}
    failures = []
    with prepared(args, "capacity", shape) as (run_dir, provisioned):
        manifest = provisioned.manifest
        big_room = manifest.topic_rooms[BIG_ROOM]["id"]
        for kind, server, env, first_seq in variants(args):
            with Session(
                args,
                run_dir,
                provisioned,
                server,
                everyone,
                heartbeat=HEARTBEAT,
                settle_timeout=240,
                allow_failed_connects=True,
                first_seq=first_seq,
                env=env,
            ) as session:
                connect = session.connect
                held = connect["connected"]
                per_connection = (connect["server_rss"] - session.idle_rss) / max(1, held)
                with MachineMeter() as whole, Meter(session.server_pids) as idle:
                    time.sleep(args.hold)
                stats = session.fleet.stats()
                still_open = stats["ready"] - stats["closed"]
                rows = [
                    (
                        f"{kind}: clients",
                        f"{held} connected ({connect['failed']} failed: "
                        f"{connect['errors'][:2]}) in {connect['seconds']} s; quiet after "
                        f"{connect['settled_seconds']} s ({connect['presence_frames']} presence "
                        f"frames, {connect['server_cpu_seconds']} s server CPU)",
                    ),
                    (
                        f"{kind}: held",
                        f"{still_open} of {held} still open after {args.hold:g} s "
                        f"({stats['pings']} pings, {stats['pongs']} pongs; "
                        f"close codes {stats['close_codes'] or 'none'})",
                    ),
                    (
                        f"{kind}: server RSS",
                        f"{mib(connect['server_rss'])} with clients, {mib(session.idle_rss)} "
                        f"before: {per_connection / 1024:.1f} KiB per connection "
                        f"(target <= 30 KiB: {'met' if per_connection <= 30 * 1024 else 'MISSED'})",
                    ),
                    (
                        f"{kind}: idle server CPU",
                        f"{idle.cores * 100:.1f}% of a core while holding (heartbeats); "
                        f"others on the machine {whole.others(idle) * 100:.0f}%",
                    ),
                ]
                result: dict[str, Any] = {
                    "clients": held,
                    "failed_connects": connect["failed"],
                    "still_open": still_open,
                    "rss_mib": round(connect["server_rss"] / 2**20, 1),
                    "idle_rss_mib": round(session.idle_rss / 2**20, 1),
                    "kib_per_connection": round(per_connection / 1024, 2),
                    "connect_seconds": connect["seconds"],
                    "settled_seconds": connect["settled_seconds"],
                    "presence_frames": connect["presence_frames"],
                    "idle_server_cores": round(idle.cores, 4),
                }
                if connect["failed"]:
                    failures.append(f"{kind}: {connect['failed']} clients could not connect")
                if still_open < held:
                    failures.append(f"{kind}: {held - still_open} clients dropped while idle")
                admin = manifest.admin.token
                for label, room_id in (
                    (f"{big_size}-member room", big_room),
                    (f"{clients}-member room", manifest.company_room_id),
                ):
                    spacing = 1.0 if not args.short else 0.5
                    gc_before = collector(server, session)
                    step = session.run(
                        Step(args.messages * spacing, [(1 / spacing, [(room_id, [admin])])])
                    )
                    gc_line = collector_line(gc_before, collector(server, session))
                    f = step.figures
                    net_cpu = max(0.0, step.server_cpu - idle.cores * step.wall)
                    per_delivery = net_cpu / max(1, f["delivered"]) * 1e6
                    rows.append(
                        (
                            f"{kind}: {label}",
                            f"{len(step.posts)} messages, {f['delivered']} of {f['expected']} "
                            f"deliveries; p50 {f['latency']['p50_ms']} ms p99 "
                            f"{f['latency']['p99_ms']} ms max {f['latency']['max_ms']} ms; "
                            f"{f['lost']} lost / {f['duplicated']} duplicated / "
                            f"{f['unexpected']} unexpected; server CPU "
                            f"{per_delivery:.1f} µs per delivery (heartbeat load subtracted)"
                            + (f"; {gc_line}" if gc_line else ""),
                        )
                    )
                    result[label] = {
                        **f,
                        "server_cpu_us_per_delivery_net": round(per_delivery, 1),
                        "collector": gc_line,
                    }
                    if f["lost"] or f["duplicated"] or f["unexpected"] or f["failed_posts"]:
                        failures.append(f"{kind}: {label}")
            report(rows)
            results[kind] = result
    if "baseline" in results and "counterline" in results:
        c, b = results["counterline"], results["baseline"]
        report(
            [
                (
                    "ratio RSS per connection (counterline / baseline)",
                    f"{c['kib_per_connection'] / max(b['kib_per_connection'], 0.01):.1f}x",
                )
            ]
        )
    if GC_OFF in results and "counterline" in results:
        rows = []
        for label in (f"{big_size}-member room", f"{clients}-member room"):
            on, off = results["counterline"][label], results[GC_OFF][label]
            rows.append(
                (
                    f"{label}: collector tuned / untuned",
                    f"p50 {on['latency']['p50_ms']} / {off['latency']['p50_ms']} ms, "
                    f"p99 {on['latency']['p99_ms']} / {off['latency']['p99_ms']} ms",
                )
            )
        report(rows)
    emit_json("capacity", results)
    if failures:
        print(f"FAILED: {failures}")
        sys.exit(1)


if __name__ == "__main__":
    main()
