"""Durable ingest: 1,000 clerks in 50 branch rooms all posting at once, each the moment her
previous post was acknowledged, for 20 s. Posts go through Counterline's post writer (the
post action, group commit, events published to the hub) in one process, without HTTP
(``bench.http_api`` measures one process's HTTP posting). A post counts when its
transaction has committed; afterwards every acknowledged post is checked in the database
by id, body and room. Baseline, same run: the same posts stored one transaction each
(groups of one, as before group commit).

With readers (issue 11: marking read must not slow posting), a third run in which every
clerk also watches her room, as the web client does: she marks it read up to the newest
message acknowledged there (the read marker, ``POST /api/v1/rooms/{id}/read`` without
HTTP) every ``--read-every`` seconds. The client sends the newest message seen once the
room has paused for 0.4 s, and in a room that never pauses (as here) every 2 s
(static/js/unread.js: DEBOUNCE_MS, MAX_WAIT_MS): 2 s by default; ``--read-every 0.4`` is
five times as often, as if every pause came just in time. Target: within 10 % of the
posts per second of the same run without readers.

    .venv/bin/python -m bench.ingest            # full: 1,000 clerks, 20 s each
    .venv/bin/python -m bench.ingest --short    # CI: 100 clerks, 1 s each
    .venv/bin/python -m bench.ingest --read-every 0.4
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select

from bench.fanout import prepared
from bench.harness import MachineMeter, arguments, emit_json, header, latency_summary, report
from bench.manifest import BenchUser
from bench.seed import Shape
from bench.sender import Post, body_of, client_id
from bench.targets import check_store
from counterline.accounts.models import User
from counterline.config import Settings
from counterline.messages.writer import MAX_GROUP, PostWriter
from counterline.ops.collector import tune_collector
from counterline.services import Services

KINDS = {"counterline": MAX_GROUP, "baseline": 1, "with readers": MAX_GROUP}  # largest group
TARGET_PER_SECOND = 2_000
READ_EVERY = 2.0  # seconds; static/js/unread.js: MAX_WAIT_MS
READERS_WITHIN = 0.9  # of the posts per second without readers


async def clerk(
    writer: PostWriter,
    author: User,
    room_id: int,
    sequences: Any,
    until: float,
    done: list[Post],
    newest: dict[int, int],
) -> None:
    """Post, wait for the acknowledgement, post again, until the time is up: at least once,
    even when a loaded machine starts this clerk after the time is up."""
    while True:
        seq = next(sequences)
        post = Post(seq, 0.0, room_id, "", sent_at=time.perf_counter())
        message, _ = await writer.post(author, room_id, body_of(seq), client_id(seq), "10.9.8.7")
        post.acked_at, post.status, post.message_id = time.perf_counter(), 201, message.id
        done.append(post)
        newest[room_id] = max(newest.get(room_id, 0), message.id)
        if time.perf_counter() >= until:
            return


SLICES = 20  # the readers' moments in each period


async def readers(
    services: Services,
    watching: Sequence[tuple[User, int]],
    every: float,
    posted: asyncio.Event,
    newest: dict[int, int],
) -> tuple[int, int]:
    """Each clerk of ``watching`` (a user and her room) marks her room read up to its
    newest acknowledged message ``every`` seconds while the clerks post, when there is
    something new and her last mark was answered; then each takes a last look (the client
    sends its position when the room pauses). How many marks were sent while posting, and
    in all. One ticker for all of them: the readers are browsers on other PCs, only their
    marks are the server's work (a task each, as a request is), not a thousand timers."""
    read_up_to = [0] * len(watching)
    waiting: set[int] = set()
    tasks = []

    async def mark(index: int, up_to: int) -> None:
        user, room_id = watching[index]
        await services.read_marker.mark(user, room_id, up_to)
        read_up_to[index] = up_to
        waiting.discard(index)

    def look(indexes: Iterable[int]) -> None:
        for index in indexes:
            up_to = newest.get(watching[index][1], 0)
            if up_to > read_up_to[index] and index not in waiting:
                waiting.add(index)
                tasks.append(asyncio.create_task(mark(index, up_to)))

    for tick in itertools.count():  # while the clerks post (on a loaded machine, past the time)
        await asyncio.sleep(every / SLICES)
        if posted.is_set():
            break
        look(range(tick % SLICES, len(watching), SLICES))
    while_posting = len(tasks)
    await asyncio.gather(*tasks)
    look(range(len(watching)))
    await asyncio.gather(*tasks[while_posting:])
    return while_posting, len(tasks)


async def ingest(
    database_url: str,
    clerks: Sequence[BenchUser],
    seconds: float,
    group: int,
    read_every: float | None,
) -> Any:
    """Every clerk posting for ``seconds``; with ``read_every``, also marking read."""
    settings = Settings(database_url=database_url)
    services = Services.from_settings(settings)
    await services.start()
    # As `counterline serve` runs (app.py): the collector tuned after start-up.
    collector = tune_collector(settings.gc_tuning, settings.gc_threshold, settings.gc_refreeze)
    groups: list[int] = []
    writer = PostWriter(services.posting_order.group, max_group=group, on_group=groups.append)
    writer.start()
    try:
        async with services.reading() as unit:
            found = await unit.session.scalars(
                select(User).where(User.id.in_([c.id for c in clerks]))
            )
            users = {user.id: user for user in found}
        sequences = iter(range(1, 10**9))
        done: list[Post] = []
        newest: dict[int, int] = {}
        posted = asyncio.Event()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with MachineMeter() as machine:
            until = wall0 + seconds
            watching = [(users[c.id], c.branch_room_id) for c in clerks]
            marking = (
                asyncio.create_task(readers(services, watching, read_every, posted, newest))
                if read_every
                else None
            )
            await asyncio.gather(
                *(
                    clerk(writer, users[c.id], c.branch_room_id, sequences, until, done, newest)
                    for c in clerks
                )
            )
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            posted.set()
            marks, all_marks = await marking if marking is not None else (0, 0)
    finally:
        if collector is not None:
            collector.undo()
        await writer.stop()
        await services.stop()
    return done, groups, wall, cpu, machine.cores, (marks, all_marks)


def measure(args: Any, kind: str) -> tuple[dict[str, Any], bool]:
    shape = Shape(args.branches, args.clerks)
    with prepared(args, f"ingest-{kind}", shape) as (_run_dir, provisioned):
        clerks = provisioned.manifest.users
        done, groups, wall, cpu, machine_cores, (marks, all_marks) = asyncio.run(
            ingest(
                provisioned.database_url,
                clerks,
                args.duration,
                KINDS[kind],
                args.read_every if kind == "with readers" else None,
            )
        )
        store = check_store(provisioned.database_url, done)
    rate = len(done) / wall
    figures = {
        "clerks": len(clerks),
        "rooms": len({c.branch_room_id for c in clerks}),
        "acknowledged": len(done),
        "per_second": round(rate),
        "marked_read": all_marks,  # with each reader's last look after the posting
        "marked_read_per_second": round(marks / wall),
        "ack": latency_summary([p.acked_at - p.sent_at for p in done]),
        "commits": len(groups),
        "posts_per_commit": round(len(done) / max(1, len(groups)), 1),
        "cpu_us_per_post": round(cpu / max(1, len(done)) * 1e6, 1),
        "process_cores": round(cpu / wall, 2),
        "machine_cores": round(machine_cores, 2),
        "store_ok": store.ok,
        "store": store.line(),
    }
    return figures, store.ok


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of posting")
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--clerks", type=int, default=20, help="clerks per branch")
    parser.add_argument(
        "--read-every", type=float, default=READ_EVERY, help="seconds between a reader's marks"
    )
    args = parser.parse_args()
    if args.short:
        args.duration, args.branches, args.clerks = 1.0, 5, 20
        args.read_every = min(args.read_every, 0.2)  # some marks within the second
    header("durable ingest: every clerk posting at once, group commit")
    results: dict[str, Any] = {}
    rows: list[tuple[str, str]] = []
    clean = True
    for kind in ("baseline", "counterline", "with readers"):
        figures, ok = measure(args, kind)
        clean = clean and ok
        results[kind] = figures
        ack = figures["ack"]
        label = f"{kind} (groups of up to {KINDS[kind]})"
        rows += [
            (
                label,
                f"{figures['per_second']:,} posts/s committed, {figures['clerks']} clerks "
                f"in {figures['rooms']} rooms, {figures['acknowledged']:,} posts; "
                f"{figures['marked_read_per_second']:,} rooms marked read/s",
            ),
            (
                f"{kind}: acknowledgement",
                f"p50 {ack['p50_ms']} ms  p99 {ack['p99_ms']} ms  max {ack['max_ms']} ms",
            ),
            (
                f"{kind}: commits",
                f"{figures['commits']:,} ({figures['posts_per_commit']} posts per commit)",
            ),
            (
                f"{kind}: CPU",
                f"{figures['cpu_us_per_post']} µs per post in this process "
                f"({figures['process_cores']} cores); machine {figures['machine_cores']} cores "
                "busy (the database server's share is in there on PostgreSQL)",
            ),
            (f"{kind}: store check", figures["store"]),
        ]
    ours, base = results["counterline"]["per_second"], results["baseline"]["per_second"]
    verdict = "met" if ours >= TARGET_PER_SECOND else "MISSED"
    rows.append(
        (
            "ratio (group commit / a commit per post)",
            f"{ours / max(base, 1):.2f}x; target >= {TARGET_PER_SECOND:,} posts/s: {verdict}",
        )
    )
    read = results["with readers"]["per_second"]
    results["read_every_s"] = args.read_every
    results["readers_met"] = read >= READERS_WITHIN * ours
    rows.append(
        (
            f"ratio (readers marking every {args.read_every:g} s / none)",
            f"{read / max(ours, 1):.2f}x; target >= {READERS_WITHIN:g}x: "
            f"{'met' if results['readers_met'] else 'MISSED'}",
        )
    )
    report(rows)
    emit_json("ingest", results)
    if not clean:
        print("FAILED: the store check found missing, duplicated, extra or mismatched posts")
        sys.exit(1)


if __name__ == "__main__":
    main()
