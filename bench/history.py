"""History: a page of 50 messages before a random id (``GET /api/v1/rooms/{id}/messages
?before=N``) over a 1,000,000-message database, one request at a time, so the response
time is the server's time plus a loopback round trip. Measured in the company room
(a fifth of all messages) and in one branch room. Baseline, same run: the same requests
on a database with 1,000 messages (everything else equal).

    .venv/bin/python -m bench.history            # full: 1,000,000 messages, 2,000 pages
    .venv/bin/python -m bench.history --short    # CI: 5,000 messages, 50 pages
"""

from __future__ import annotations

import asyncio
import random
import sys
from typing import Any

from bench.fanout import prepared
from bench.harness import Meter, arguments, emit_json, header, latency_summary, report
from bench.httpclient import Connection, build_request
from bench.seed import Shape
from bench.targets import counterline_nodes

SMALL = 1_000


async def pages(
    port: int, token: str, room_id: int, ids: tuple[int, int], count: int
) -> dict[str, Any]:
    rng = random.Random(room_id)
    connection = await Connection("127.0.0.1", port).open()
    headers = {"Authorization": f"Bearer {token}"}
    latencies, bad, sizes = [], 0, []
    loop = asyncio.get_running_loop()
    for _ in range(count):
        before = rng.randint(ids[0], ids[1] + 1)
        raw = build_request("GET", f"/api/v1/rooms/{room_id}/messages?before={before}", headers)
        started = loop.time()
        response = await connection.send(raw)
        latencies.append(loop.time() - started)
        if response.status != 200:
            bad += 1
        else:
            sizes.append(response.body.count(b'"client_id"'))
    await connection.close()
    return {
        **latency_summary(latencies),
        "errors": bad,
        "messages_per_page": round(sum(sizes) / max(1, len(sizes)), 1),
    }


def measure(args: Any, history: int, label: str) -> dict[str, Any]:
    shape = Shape(args.branches, args.clerks, history_messages=history)
    with prepared(args, f"history-{label}", shape) as (run_dir, provisioned):
        manifest = provisioned.manifest
        ids = (manifest.history["first_id"], manifest.history["last_id"])
        branch_user = manifest.users[0]
        rooms = {
            "company room": (manifest.company_room_id, manifest.admin.token),
            "branch room": (branch_user.branch_room_id, branch_user.token),
        }
        out: dict[str, Any] = {"messages": history}
        with counterline_nodes(args, run_dir, provisioned) as servers:
            port = servers[0].port
            asyncio.run(pages(port, manifest.admin.token, manifest.company_room_id, ids, 20))
            for name, (room_id, token) in rooms.items():
                with Meter(servers[0].pids()) as server:
                    figures = asyncio.run(pages(port, token, room_id, ids, args.pages))
                figures["server_cpu_ms_per_page"] = round(server.cpu / args.pages * 1000, 3)
                out[name] = figures
        return out


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=2_000)
    args = parser.parse_args()
    args.branches, args.clerks = 50, 20
    if args.short:
        args.branches, args.clerks, args.messages, args.pages = 5, 20, 5_000, 50
    header(f"history: 50 messages before an id, {args.messages:,} messages in the database")
    results = {
        "baseline": measure(args, SMALL, "small"),
        "counterline": measure(args, args.messages, "big"),
    }
    rows = []
    failed = False
    for kind in ("counterline", "baseline"):
        for room in ("company room", "branch room"):
            r = results[kind][room]
            failed = failed or bool(r["errors"])
            rows.append(
                (
                    f"{results[kind]['messages']:>9,} messages, {room}",
                    f"p50 {r['p50_ms']} ms  p90 {r['p90_ms']} ms  p99 {r['p99_ms']} ms  "
                    f"({r['server_cpu_ms_per_page']} ms server CPU/page, "
                    f"{r['messages_per_page']} messages/page, {r['errors']} errors)",
                )
            )
    for room in ("company room", "branch room"):
        big, small = results["counterline"][room], results["baseline"][room]
        rows.append(
            (
                f"ratio {room} (big / small database)",
                f"p50 {big['p50_ms'] / max(small['p50_ms'], 0.001):.2f}x  "
                f"p99 {big['p99_ms'] / max(small['p99_ms'], 0.001):.2f}x",
            )
        )
    report(rows)
    emit_json("history", results)
    if failed:
        print("FAILED: error responses")
        sys.exit(1)


if __name__ == "__main__":
    main()
