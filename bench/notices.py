"""Notices: an administrator publishes a notice to everyone (2,000 clerks in 50 branches),
each with an open stream; measured is the time from sending the publish until every tab got
its ``notice.assigned`` frame (target ≤ 1 s), then 2,000 acknowledgements, 20 at a time, all
recorded (target: within a minute), then the compliance endpoint
(``GET /api/v1/notices/{id}/compliance``, one request at a time) before and after the
acknowledgements (target p99 ≤ 50 ms). Baseline, same run and server: the room list
(``GET /api/v1/rooms``) the same way.

    .venv/bin/python -m bench.notices            # full: 50 branches × 40 clerks
    .venv/bin/python -m bench.notices --short    # CI: 5 branches × 20 clerks
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from bench.fanout import prepared
from bench.harness import Meter, arguments, emit_json, header, latency_summary, report
from bench.httpclient import get_one_by_one
from bench.manifest import BenchUser
from bench.seed import Shape
from bench.targets import counterline_nodes
from counterline.config import Settings
from counterline.notices.models import NoticeAcknowledgement, NoticeRecipient
from counterline.services import Services

DELIVERY_TARGET_S = 1.0
ACK_TARGET_S = 60.0
COMPLIANCE_TARGET_MS = 50.0
CONNECT_AT_ONCE = 50
ACK_AT_ONCE = 20


class Tabs:
    """One open stream per user; when each received ``notice.assigned``."""

    def __init__(self, ws_url: str, users: list[BenchUser]) -> None:
        self.ws_url, self.users = ws_url, users
        self.sockets: list[Any] = []
        self.arrived: dict[int, float] = {}
        self.readers: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        gate = asyncio.Semaphore(CONNECT_AT_ONCE)

        async def one(user: BenchUser) -> None:
            async with gate:
                socket = await connect(
                    f"{self.ws_url}/api/v1/stream",
                    additional_headers={"Authorization": f"Bearer {user.token}"},
                    open_timeout=30,
                    max_size=None,
                )
                while json.loads(await socket.recv())["type"] != "ready":
                    pass
            self.sockets.append(socket)
            self.readers.append(asyncio.create_task(self.read(user.id, socket)))

        await asyncio.gather(*(one(user) for user in self.users))

    async def read(self, user_id: int, socket: Any) -> None:
        try:
            async for raw in socket:
                if '"notice.assigned"' in raw and user_id not in self.arrived:
                    self.arrived[user_id] = time.perf_counter()
        except Exception:
            return

    async def wait_all(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.arrived) < len(self.users) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for socket in self.sockets:
            await socket.close()
        for reader in self.readers:
            reader.cancel()


async def publish_and_deliver(url: str, ws_url: str, admin: BenchUser, users: list[BenchUser]):
    tabs = Tabs(ws_url, users)
    await tabs.open()
    due = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body = {
        "title": "机顶盒收费新规",
        "body": "**自12月1日起**，无机顶盒用户按主终端收费。资源编码 B1E-0D7 不变。",
        "audience": {"all": True},
        "due_at": due,
        "quiz": {
            "pass_mark": 100,
            "questions": [
                {"prompt": "无机顶盒如何收费？", "options": ["按主终端", "免收"], "correct": 0},
                {"kind": "true_false", "prompt": "副终端可单独停机。", "correct": 1},
            ],
        },
    }
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        started = time.perf_counter()
        answer = await http.post(
            "/api/v1/notices", json=body, headers={"Authorization": f"Bearer {admin.token}"}
        )
        stored = time.perf_counter() - started
    if answer.status_code != 201:
        await tabs.close()
        raise SystemExit(f"FAILED: publish answered {answer.status_code}: {answer.text}")
    await tabs.wait_all(10)
    await tabs.close()
    delays = [at - started for at in tabs.arrived.values()]
    return answer.json(), {
        "stored_ms": round(stored * 1000, 1),
        "tabs": len(users),
        "reached": len(tabs.arrived),
        "every_tab_ms": round(max(delays) * 1000, 1) if delays else None,
        "latency": latency_summary(delays),
    }


async def acknowledge_all(url: str, notice_id: int, users: list[BenchUser]) -> dict[str, Any]:
    gate = asyncio.Semaphore(ACK_AT_ONCE)
    latencies: list[float] = []
    errors: list[int] = []
    limits = httpx.Limits(max_connections=ACK_AT_ONCE, max_keepalive_connections=ACK_AT_ONCE)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def one(user: BenchUser) -> None:
            async with gate:
                begun = time.perf_counter()
                answer = await http.post(
                    f"/api/v1/notices/{notice_id}/acknowledgement",
                    json={"answers": [0, 1]},
                    headers={"Authorization": f"Bearer {user.token}"},
                )
                latencies.append(time.perf_counter() - begun)
                if answer.status_code != 200 or not answer.json().get("passed"):
                    errors.append(answer.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(one(user) for user in users))
        took = time.perf_counter() - started
    return {
        "sent": len(users),
        "seconds": round(took, 2),
        "per_second": round(len(users) / took, 1),
        "errors": len(errors),
        "latency": latency_summary(latencies),
    }


async def recorded(database_url: str, notice_id: int) -> dict[str, int]:
    services = Services.from_settings(Settings(database_url=database_url))
    try:
        async with services.reading() as unit:
            acks = await unit.session.scalar(
                select(func.count())
                .select_from(NoticeAcknowledgement)
                .where(NoticeAcknowledgement.notice_id == notice_id)
            )
            done = await unit.session.scalar(
                select(func.count())
                .select_from(NoticeRecipient)
                .where(
                    NoticeRecipient.notice_id == notice_id,
                    NoticeRecipient.completed_at.is_not(None),
                )
            )
        return {"acknowledgements": acks or 0, "done": done or 0}
    finally:
        await services.database.dispose()


def timed_gets(server: Any, token: str, path: str, count: int) -> dict[str, Any]:
    asyncio.run(get_one_by_one(server.port, token, path, 20))  # warm up
    with Meter(server.pids()) as meter:
        figures = asyncio.run(get_one_by_one(server.port, token, path, count))
    figures["server_cpu_ms"] = round(meter.cpu / count * 1000, 3)
    return figures


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--clerks", type=int, default=40, help="clerks per branch")
    parser.add_argument("--requests", type=int, default=1_000)
    args = parser.parse_args()
    if args.short:
        args.branches, args.clerks, args.requests = 5, 20, 50
    people = args.branches * args.clerks
    header(f"notices: publish to {people:,} people in {args.branches} branches, acknowledge, count")
    with prepared(args, "notices", Shape(args.branches, args.clerks)) as (run_dir, provisioned):
        manifest = provisioned.manifest
        admin, users = manifest.admin, manifest.users
        with counterline_nodes(args, run_dir, provisioned) as servers:
            server = servers[0]
            notice, delivery = asyncio.run(
                publish_and_deliver(server.url, server.ws_url, admin, users)
            )
            path = f"/api/v1/notices/{notice['id']}/compliance"
            before = timed_gets(server, admin.token, path, args.requests)
            acks = asyncio.run(acknowledge_all(server.url, notice["id"], users))
            after = timed_gets(server, admin.token, path, args.requests)
            baseline = timed_gets(server, admin.token, "/api/v1/rooms", args.requests)
        stored = asyncio.run(recorded(provisioned.database_url, notice["id"]))
    results: dict[str, Any] = {
        "people": people,
        "audience_size": notice["audience_size"],
        "delivery": delivery,
        "acknowledgements": {**acks, **stored},
        "compliance_before": before,
        "compliance_after": after,
        "baseline_rooms": baseline,
    }
    for figures in (before, after, baseline):
        figures["status_errors"] = figures.pop("errors")
        answer = figures.pop("answer")
        figures["branches"] = len(answer.get("branches", [])) if "branches" in answer else None
    worst = max(before["p99_ms"], after["p99_ms"])
    results["met"] = {
        "delivery": delivery["reached"] == people
        and delivery["every_tab_ms"] is not None
        and delivery["every_tab_ms"] <= DELIVERY_TARGET_S * 1000,
        "acknowledgements": stored["done"] == people and acks["seconds"] <= ACK_TARGET_S,
        "compliance": worst <= COMPLIANCE_TARGET_MS,
    }
    rows = [
        ("audience", f"{notice['audience_size']:,} people ({people:,} clerks, author excluded)"),
        ("publish: stored", f"{delivery['stored_ms']} ms (answer to the POST)"),
        (
            "publish: every tab got it",
            f"{delivery['reached']:,} of {people:,} tabs; last after {delivery['every_tab_ms']} "
            f"ms (p50 {delivery['latency']['p50_ms']} ms, p99 {delivery['latency']['p99_ms']} ms)",
        ),
        (
            "acknowledgements",
            f"{acks['sent']:,} sent ({ACK_AT_ONCE} at a time) in {acks['seconds']} s "
            f"({acks['per_second']}/s; p50 {acks['latency']['p50_ms']} ms, p99 "
            f"{acks['latency']['p99_ms']} ms), {acks['errors']} errors",
        ),
        (
            "acknowledgements: recorded",
            f"{stored['acknowledgements']:,} acknowledgements, {stored['done']:,} people done",
        ),
    ]
    for label, figures in (
        ("compliance, nobody done", before),
        ("compliance, everyone done", after),
        ("baseline: room list", baseline),
    ):
        rows.append(
            (
                label,
                f"p50 {figures['p50_ms']} ms  p99 {figures['p99_ms']} ms  "
                f"({figures['server_cpu_ms']} ms server CPU/request, "
                f"{figures['status_errors']} errors)",
            )
        )
    met = results["met"]
    rows.append(
        (
            "targets",
            f"every tab ≤ {DELIVERY_TARGET_S:g} s: {'met' if met['delivery'] else 'NOT met'}; "
            f"all acknowledged ≤ {ACK_TARGET_S:g} s: "
            f"{'met' if met['acknowledgements'] else 'NOT met'}; compliance p99 ≤ "
            f"{COMPLIANCE_TARGET_MS:g} ms: {'met' if met['compliance'] else 'NOT met'} "
            f"({worst / max(baseline['p99_ms'], 0.001):.2f}x the room list)",
        )
    )
    report(rows)
    emit_json("notices", results)
    lost = delivery["reached"] != people or stored["done"] != people
    if lost or acks["errors"] or any(f["status_errors"] for f in (before, after, baseline)):
        print("FAILED: a tab missed the notice, an acknowledgement was lost, or errors")
        sys.exit(1)


if __name__ == "__main__":
    main()
