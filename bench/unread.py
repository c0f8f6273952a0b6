"""Unread counts: server CPU per room list (``GET /api/v1/rooms``) for a clerk in 200 rooms
and conversations, every one with unread messages, one request at a time over a kept-alive
connection; also her unread summary (``GET /api/v1/unread``). Counts are kept by the server
(``rooms.last_seq - room_members.read_seq``), so the list costs one indexed query for all
rooms, not a count per room. Baseline, same run and server: the room list of a clerk in 2
rooms (company and branch room, also with unread messages).

    .venv/bin/python -m bench.unread            # full: 2,000 requests each
    .venv/bin/python -m bench.unread --short    # CI: 50 requests each
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from bench.fanout import prepared
from bench.harness import Meter, arguments, emit_json, header, report
from bench.httpclient import get_one_by_one
from bench.manifest import Manifest
from bench.seed import Shape
from bench.targets import counterline_nodes
from counterline.config import Settings
from counterline.messages.models import Message
from counterline.rooms.models import Membership, Room, RoomKind, Visibility
from counterline.services import Services

ROOMS = 200  # the heavy clerk's rooms and conversations, her company and branch room included
UNREAD_EACH = 3
TARGET_MS = 2.0


async def give_her_rooms(database_url: str, manifest: Manifest) -> None:
    """Make users[0] a member of ROOMS rooms (half topic rooms, half group conversations
    with users[2]), and post UNREAD_EACH messages by users[2] in each, numbered as the post
    path numbers them (messages.seq, rooms.last_seq)."""
    her, other = manifest.users[0], manifest.users[2]
    services = Services.from_settings(Settings(database_url=database_url))
    now = datetime.now(UTC)
    try:
        async with services.transaction() as unit:
            run = unit.session.execute
            extra = ROOMS - 2
            new_ids = []
            for n in range(extra):
                conversation = n % 2 == 1
                values = {
                    "kind": RoomKind.conversation if conversation else RoomKind.topic,
                    "name": f"会话{n}" if conversation else f"专题{n}",
                    "name_key": None if conversation else f"专题{n}",
                    "visibility": Visibility.invite_only,
                    "created_by_id": her.id,
                    "created_at": now,
                }
                new_ids.append(
                    (await run(insert(Room).values(values).returning(Room.id))).scalar_one()
                )
            members = [{"room_id": r, "user_id": her.id, "joined_at": now} for r in new_ids]
            members += [{"room_id": r, "user_id": other.id, "joined_at": now} for r in new_ids]
            await run(insert(Membership), members)
            rooms = [*new_ids, manifest.company_room_id, her.branch_room_id]
            branch_id = (
                await run(select(Room.branch_id).where(Room.id == her.branch_room_id))
            ).scalar_one()
            other_branch = await unit.session.scalar(
                select(Room.branch_id).where(Room.id == other.branch_room_id)
            )
            assert branch_id is not None and other_branch is not None
            rows = []
            for room_id in rooms:
                last = (await run(select(Room.last_seq).where(Room.id == room_id))).scalar_one()
                for k in range(1, UNREAD_EACH + 1):
                    rows.append(
                        {
                            "room_id": room_id,
                            "author_id": other.id,
                            "author_branch_id": other_branch,
                            "client_id": f"unread-{room_id}-{k}",
                            "client_ip": "10.0.0.9",
                            "body": f"未读 {k}",
                            "body_html": f"<p>未读 {k}</p>",
                            "created_at": now,
                            "seq": last + k,
                        }
                    )
                await run(
                    update(Room).where(Room.id == room_id).values(last_seq=last + UNREAD_EACH)
                )
            await run(insert(Message), rows)
    finally:
        await services.database.dispose()


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    args.branches, args.clerks = 5, 20
    if args.short:
        args.requests = 50
    header(f"unread counts: the room list of a clerk in {ROOMS} rooms, all with unread messages")
    results: dict[str, Any] = {"rooms": ROOMS, "requests": args.requests, "target_ms": TARGET_MS}
    with prepared(args, "unread", Shape(args.branches, args.clerks)) as (run_dir, provisioned):
        manifest = provisioned.manifest
        asyncio.run(give_her_rooms(provisioned.database_url, manifest))
        heavy, light = manifest.users[0], manifest.users[1]
        cases = {
            "counterline": (heavy.token, "/api/v1/rooms"),
            "summary": (heavy.token, "/api/v1/unread"),
            "baseline": (light.token, "/api/v1/rooms"),
        }
        with counterline_nodes(args, run_dir, provisioned) as servers:
            port = servers[0].port
            for token, path in cases.values():  # warm up: caches, statements
                asyncio.run(get_one_by_one(port, token, path, 20))
            for kind, (token, path) in cases.items():
                with Meter(servers[0].pids()) as server:
                    figures = asyncio.run(get_one_by_one(port, token, path, args.requests))
                figures["server_cpu_ms"] = round(server.cpu / args.requests * 1000, 3)
                results[kind] = figures
    listed = results["counterline"].pop("answer").get("rooms", [])
    summary = results["summary"].pop("answer")
    small = results["baseline"].pop("answer").get("rooms", [])
    results["counterline"]["listed"] = len(listed)
    results["counterline"]["unread"] = sum(room["unread"] for room in listed)
    results["baseline"]["listed"] = len(small)
    results["baseline"]["unread"] = sum(room["unread"] for room in small)
    results["summary"]["total"] = summary.get("total")
    expected = ROOMS * UNREAD_EACH
    rows = []
    for kind, label in (
        ("counterline", f"room list, {ROOMS} rooms with unread"),
        ("summary", f"unread summary, {ROOMS} rooms"),
        ("baseline", "baseline: room list, 2 rooms"),
    ):
        r = results[kind]
        rows.append(
            (
                label,
                f"{r['server_cpu_ms']} ms server CPU/request  p50 {r['p50_ms']} ms  "
                f"p99 {r['p99_ms']} ms  ({r['errors']} errors)",
            )
        )
    heavy_ms, base_ms = (
        results["counterline"]["server_cpu_ms"],
        results["baseline"]["server_cpu_ms"],
    )
    results["met"] = heavy_ms <= TARGET_MS
    rows.append(
        (
            f"target ≤ {TARGET_MS} ms server CPU",
            f"{'met' if results['met'] else 'NOT met'} ({heavy_ms} ms; "
            f"{heavy_ms - base_ms:+.3f} ms over the 2-room list)",
        )
    )
    rows.append(
        (
            "counts check",
            f"{results['counterline']['listed']} rooms listed, "
            f"{results['counterline']['unread']} unread (expected {ROOMS} and {expected}); "
            f"summary total {results['summary']['total']}",
        )
    )
    report(rows)
    emit_json("unread", results)
    wrong = (
        results["counterline"]["listed"] != ROOMS
        or results["counterline"]["unread"] != expected
        or results["summary"]["total"] != expected
        or results["baseline"]["unread"] != 2 * UNREAD_EACH
        or any(results[kind]["errors"] for kind in cases)
    )
    if wrong:
        print("FAILED: wrong counts or error responses")
        sys.exit(1)


if __name__ == "__main__":
    main()
