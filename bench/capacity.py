"""Capacity: the most idle clients one server process holds with heartbeats (target
10,000) and its RSS per connection (target <= 30 KiB); then single messages into a
1,000-member room and into the company room with every client in it (10,000 members):
delivery p50/p99 and server CPU per delivery.

Every client is a different clerk (10,000 users, 500 branches), connected once, sending
``{"type": "ping"}`` every 20 s; the connections are held for ``--hold`` seconds (longer
than the server's 45 s heartbeat timeout in the full run). Baseline, same run: the same
clients on the bare ``websockets`` server.

    .venv/bin/python -m bench.capacity            # full: 10,000 clients
    .venv/bin/python -m bench.capacity --short    # CI: 100 clients
"""

from __future__ import annotations

import sys
import time
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


def main() -> None:
    parser = fanout_arguments(__doc__.split("\n")[0])
    parser.add_argument("--hold", type=float, default=60.0, help="seconds to hold the clients")
    parser.add_argument("--messages", type=int, default=5, help="messages into each big room")
    parser.add_argument(
        "--history", type=int, default=0, help="messages already in the database (e.g. 1000000)"
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
        for kind in targets(args):
            with Session(
                args,
                run_dir,
                provisioned,
                kind,
                everyone,
                heartbeat=HEARTBEAT,
                settle_timeout=240,
                allow_failed_connects=True,
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
                    step = session.run(
                        Step(args.messages * spacing, [(1 / spacing, [(room_id, [admin])])])
                    )
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
                            f"{per_delivery:.1f} µs per delivery (heartbeat load subtracted)",
                        )
                    )
                    result[label] = {**f, "server_cpu_us_per_delivery_net": round(per_delivery, 1)}
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
    emit_json("capacity", results)
    if failures:
        print(f"FAILED: {failures}")
        sys.exit(1)


if __name__ == "__main__":
    main()
