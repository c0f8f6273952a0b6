"""Inbox: the first page of a clerk's inbox (``GET /api/v1/inbox``, 50 items, newest first)
over a 1,000,000-message database, one request at a time over a kept-alive connection, so the
response time is the server's time plus a loopback round trip; also her unread items only
(``?unread=true``) and the badge (``GET /api/v1/inbox/count``, counted up to 100). One
message in ten of her two rooms (company and branch room, about a fifth of the database) is
addressed to her (an ``@all`` or a mention of her branch), and she has read half of them.
Target: p99 ≤ 10 ms. Baseline, same run: the same requests on a database with 1,000 messages.

    .venv/bin/python -m bench.inbox            # full: 1,000,000 messages, 2,000 requests each
    .venv/bin/python -m bench.inbox --short    # 5,000 messages, 50 requests each
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from sqlalchemy import func, insert, select, update

from bench.fanout import prepared
from bench.harness import Meter, arguments, emit_json, header, report
from bench.httpclient import get_one_by_one
from bench.manifest import Manifest
from bench.seed import Shape
from bench.targets import counterline_nodes
from counterline.config import Settings
from counterline.inbox.queries import COUNT_CAP
from counterline.messages.mentions import Reason
from counterline.messages.models import Message, MessageAddressee
from counterline.rooms.models import Membership
from counterline.services import Services

SMALL = 1_000
EVERY = 10  # one message in EVERY of her rooms is addressed to her
TARGET_MS = 10.0
PATHS = {
    "first page": "/api/v1/inbox",
    "unread only": "/api/v1/inbox?unread=true",
    "count": "/api/v1/inbox/count",
}


async def address_her(database_url: str, manifest: Manifest) -> dict[str, int]:
    """Inbox rows for users[0], as the post path writes them, for every EVERY-th message of
    her rooms not written by her; her read positions half-way through them."""
    her = manifest.users[0]
    rooms = (manifest.company_room_id, her.branch_room_id)
    services = Services.from_settings(Settings(database_url=database_url))
    try:
        async with services.transaction() as unit:
            run = unit.session.execute
            found = await run(
                select(Message.id, Message.room_id)
                .where(Message.room_id.in_(rooms), Message.author_id != her.id)
                .order_by(Message.id)
            )
            rows = [
                {
                    "user_id": her.id,
                    "message_id": message_id,
                    "room_id": room_id,
                    "reasons": int(Reason.all if room_id == rooms[0] else Reason.branch),
                }
                for n, (message_id, room_id) in enumerate(found)
                if n % EVERY == 0
            ]
            for start in range(0, len(rows), 10_000):
                await run(insert(MessageAddressee), rows[start : start + 10_000])
            half = rows[len(rows) // 2]["message_id"] if rows else 0
            await run(
                update(Membership)
                .where(Membership.user_id == her.id, Membership.room_id.in_(rooms))
                .values(last_read_id=half)
            )
            unread = await unit.session.scalar(
                select(func.count())
                .select_from(MessageAddressee)
                .where(MessageAddressee.user_id == her.id, MessageAddressee.message_id > half)
            )
        return {"items": len(rows), "unread": unread or 0}
    finally:
        await services.database.dispose()


def measure(args: Any, history: int, label: str) -> dict[str, Any]:
    shape = Shape(args.branches, args.clerks, history_messages=history)
    with prepared(args, f"inbox-{label}", shape) as (run_dir, provisioned):
        manifest = provisioned.manifest
        out: dict[str, Any] = {"messages": history}
        out.update(asyncio.run(address_her(provisioned.database_url, manifest)))
        token = manifest.users[0].token
        with counterline_nodes(args, run_dir, provisioned) as servers:
            port = servers[0].port
            for path in PATHS.values():  # warm up: caches, statements
                asyncio.run(get_one_by_one(port, token, path, 20))
            for name, path in PATHS.items():
                with Meter(servers[0].pids()) as server:
                    figures = asyncio.run(get_one_by_one(port, token, path, args.requests))
                figures["server_cpu_ms"] = round(server.cpu / args.requests * 1000, 3)
                out[name] = figures
        return out


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    args.branches, args.clerks = 50, 20
    if args.short:
        args.branches, args.clerks, args.messages, args.requests = 5, 20, 5_000, 50
    header(f"inbox: the first page of a clerk's inbox, {args.messages:,} messages in the database")
    results: dict[str, Any] = {
        "target_ms": TARGET_MS,
        "baseline": measure(args, SMALL, "small"),
        "counterline": measure(args, args.messages, "big"),
    }
    rows, wrong = [], False
    for kind in ("counterline", "baseline"):
        r = results[kind]
        for name in PATHS:
            figures = r[name]
            answer = figures.pop("answer")
            if name == "count":
                figures["unread"] = answer.get("unread")
                wrong = wrong or figures["unread"] != min(r["unread"], COUNT_CAP)
            else:
                figures["items"] = len(answer.get("items", []))
                wrong = wrong or figures["items"] != min(
                    50, r["items"] if name == "first page" else r["unread"]
                )
            wrong = wrong or bool(figures["errors"])
            rows.append(
                (
                    f"{r['messages']:>9,} messages, {name}",
                    f"p50 {figures['p50_ms']} ms  p99 {figures['p99_ms']} ms  "
                    f"({figures['server_cpu_ms']} ms server CPU/request, "
                    f"{r['items']:,} items, {r['unread']:,} unread, {figures['errors']} errors)",
                )
            )
    big, small = results["counterline"]["first page"], results["baseline"]["first page"]
    results["met"] = big["p99_ms"] <= TARGET_MS
    rows.append(
        (
            f"target first page p99 ≤ {TARGET_MS:g} ms",
            f"{'met' if results['met'] else 'NOT met'} ({big['p99_ms']} ms; "
            f"{big['p99_ms'] / max(small['p99_ms'], 0.001):.2f}x the small database)",
        )
    )
    report(rows)
    emit_json("inbox", results)
    if wrong:
        print("FAILED: wrong items or counts, or error responses")
        sys.exit(1)


if __name__ == "__main__":
    main()
