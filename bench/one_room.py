"""One room, 50 listeners: an open-loop sender posts into a topic room at 10 messages/s
(targets p50 <= 5 ms, p99 <= 15 ms), at 125 messages/s (half the load: the post's
acknowledgement p50 <= 3 ms, p99 <= 15 ms) and at 250 messages/s for 60 s (target p99 <=
100 ms, nothing lost or duplicated). Latency is post written -> each listener's receipt.
Baseline, same run: the bare ``websockets`` server broadcasting the same frames.

With ``--nodes 2`` (and Redis), half the listeners are on each node, posts alternate
between the nodes, and Counterline also runs as one node without Redis on the same
database: latency to listeners on the other node minus that is what crossing nodes adds
(target <= 2 ms p50, <= 5 ms p99).

    .venv/bin/python -m bench.one_room            # full: 60 s at each rate
    .venv/bin/python -m bench.one_room --short    # CI: 1 s at each rate
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.fanout import Audience, Session, Step, fanout_arguments, prepared, step_rows, targets
from bench.harness import emit_json, header, report
from bench.manifest import Manifest
from bench.seed import Shape

ROOM = "listen-50"
LISTENERS = 50


@dataclass(frozen=True)
class Phase:
    rate: float
    latency: tuple[float | None, float | None] = (None, None)  # p50, p99 targets in ms
    ack: tuple[float | None, float | None] = (None, None)


PHASES = (
    Phase(10.0, latency=(5.0, 15.0)),
    Phase(125.0, ack=(3.0, 15.0)),
    Phase(250.0, latency=(None, 100.0)),
)


def listeners(manifest: Manifest, urls: Sequence[str]) -> Audience:
    """The room's 50 clerks connected once each; the administrator posts."""
    room = manifest.topic_rooms[ROOM]
    members = [user for user in manifest.users if user.id in set(room["member_ids"])]
    connections = [(user.token, urls[i % len(urls)]) for i, user in enumerate(members)]
    return Audience(
        connections,
        {room["id"]: list(range(len(members)))},
        company=(room["id"], [manifest.admin.token]),
    )


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return f" (target <= {target:g} ms: {'met' if value <= target else 'MISSED'})"


def against(figures: dict[str, Any], targets: tuple[float | None, float | None]) -> str:
    p50, p99 = figures["p50_ms"], figures["p99_ms"]
    return f"p50 {p50} ms{verdict(p50, targets[0])}, p99 {p99} ms{verdict(p99, targets[1])}"


ONE_NODE = "counterline, one node"


def sessions(args: argparse.Namespace) -> list[tuple[str, argparse.Namespace]]:
    """What to measure, each with its settings. With several nodes, Counterline also runs
    as one node without Redis on the same database: the reference for what crossing
    nodes adds."""
    chosen = [(kind, args) for kind in targets(args)]
    if args.nodes > 1 and "counterline" in targets(args):
        chosen.insert(
            1, (ONE_NODE, argparse.Namespace(**{**vars(args), "nodes": 1, "redis_url": ""}))
        )
    return chosen


def crossing_cost_rows(results: dict[str, Any], phases: Sequence[Phase]) -> list[tuple[str, str]]:
    """Latency to listeners on the other node, against the same posts with one node alone:
    what Redis and a second process add."""
    rows = []
    for phase in phases:
        rate = f"{phase.rate:g}"
        cross = results["counterline"][rate]["cross_node_latency"]
        alone = results[ONE_NODE][rate]["latency"]
        added = (cross["p50_ms"] - alone["p50_ms"], cross["p99_ms"] - alone["p99_ms"])
        met = added[0] <= 2 and added[1] <= 5
        rows.append(
            (
                f"@{rate}/s: crossing nodes adds (other node vs one node alone)",
                f"p50 {added[0]:.2f} ms, p99 {added[1]:.2f} ms "
                f"(target <= 2 / 5 ms: {'met' if met else 'MISSED'})",
            )
        )
    return rows


def main() -> None:
    parser = fanout_arguments(__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds at each rate")
    parser.add_argument(
        "--rates",
        default=",".join(f"{phase.rate:g}" for phase in PHASES),
        help="which of the rates to run (default: all)",
    )
    parser.set_defaults(processes=1)
    args = parser.parse_args()
    if args.short:
        args.duration = 1.0
    phases = [phase for phase in PHASES if f"{phase.rate:g}" in args.rates.split(",")]
    shape = Shape(3, 20, topic_rooms=((ROOM, LISTENERS),))
    header("one room, 50 listeners")
    results: dict[str, Any] = {}
    failures = []
    with prepared(args, "one-room", shape) as (run_dir, provisioned):
        for number, (kind, settings) in enumerate(sessions(args)):
            results[kind] = {}
            server = "baseline" if kind == "baseline" else "counterline"
            first_seq = 1 + number * 100_000_000
            with Session(
                settings, run_dir, provisioned, server, listeners, first_seq=first_seq
            ) as session:
                for phase in phases:
                    rate = phase.rate
                    streams = [(rate, [session.audience.company])]
                    step = session.run(Step(args.duration, streams))
                    f = step.figures
                    report(step_rows(f"{kind} @{rate:g}/s", step, session)[1:])
                    report(
                        [
                            (
                                f"{kind} @{rate:g}/s: targets",
                                f"latency {against(f['latency'], phase.latency)}; "
                                f"post ack {against(f['post_ack'], phase.ack)}",
                            )
                        ]
                    )
                    if f["lost"] or f["duplicated"] or f["unexpected"] or f["failed_posts"]:
                        failures.append(f"{kind}@{rate:g}")
                    results[kind][f"{rate:g}"] = {
                        **f,
                        "server_cores": round(step.server_cores, 3),
                        "generator_cores": round(step.generator_cores, 3),
                    }
    if "baseline" in results and "counterline" in results:
        for phase in phases:
            rate = phase.rate
            c = results["counterline"][f"{rate:g}"]["latency"]
            b = results["baseline"][f"{rate:g}"]["latency"]
            report(
                [
                    (
                        f"ratio @{rate:g}/s (counterline / baseline)",
                        f"p50 {c['p50_ms'] / max(b['p50_ms'], 0.01):.1f}x  "
                        f"p99 {c['p99_ms'] / max(b['p99_ms'], 0.01):.1f}x",
                    )
                ]
            )
    if ONE_NODE in results:
        report(crossing_cost_rows(results, phases))
    emit_json("one_room", results)
    if failures:
        print(f"FAILED: lost, duplicated, unexpected or failed posts in {failures}")
        sys.exit(1)


if __name__ == "__main__":
    main()
