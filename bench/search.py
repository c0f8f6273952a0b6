"""Search: newest-first top 20 over 1,000,000 realistic Chinese counter-business messages
through the app's search action (server time, in-process), for rare words, common words,
one character, two-word queries and resource codes, over everything a viewer may read and
in one room; relevance order too; history pages (newest, ``before=`` deep in a room,
``day=``) through the app's messages action; segmenter throughput (jieba and rjieba);
optionally the same searches over HTTP and how soon a posted message is findable.
Baselines, same run: a plain ``LIKE '%term%'`` scan, newest first, top 20, on the same
data for every search figure; the bare indexed query under every history page.

The database (users, branches, rooms, memberships through bench.seed and bulk inserts;
messages bulk-inserted as the post path stores them; the index written by the app's own
``messages.indexing`` with terms computed in worker processes) is kept with ``--reuse``.

    .venv/bin/python -m bench.search --reuse /tmp/clsearch-1m.db            # 1,000,000 messages
    .venv/bin/python -m bench.search --reuse /tmp/clsearch-1m.db --http --freshness 50
    .venv/bin/python -m bench.search --reuse clbench_search_1m \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres  # kept PG database
    .venv/bin/python -m bench.search --short                               # CI: 2,000 messages
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, text

from bench.harness import (
    MachineMeter,
    Meter,
    Server,
    arguments,
    counterline_server,
    emit_json,
    header,
    latency_summary,
    report,
    run_directory,
)
from bench.httpclient import Connection, build_request
from bench.manifest import Manifest
from bench.search_corpus import Corpus
from bench.seed import Shape, _pg_execute, build
from counterline.accounts.actions import get_user_named
from counterline.accounts.models import User
from counterline.config import Settings
from counterline.messages import indexing
from counterline.messages.actions import list_messages
from counterline.messages.models import Message
from counterline.messages.rendering import render_body
from counterline.rooms.actions import create_topic_room
from counterline.rooms.models import Membership, Visibility
from counterline.services import Services

META_VERSION = "1"
BRANCHES, CLERKS = 50, 40  # 2,000 authors; with head office and company room, 100 rooms
TOPIC_ROOMS = 48
BATCH = 5_000
TARGET_P50_MS, TARGET_P99_MS = 10.0, 50.0
LIMIT = 20
TOPICS = (
    *("宽带装维", "对公业务", "信用卡中心", "电费核查", "燃气安检", "携号转网", "反诈专班"),
    *("理财经理", "大堂经理", "网点主任", "运维保障", "终端库存", "投诉处理", "集团客户"),
    *("营销活动", "培训考试"),
)


# ---------------------------------------------------------------- the database


@dataclass
class Bench:
    """A filled database: where it is, who is in it, and the corpus' word frequencies."""

    database_url: str
    manifest: Manifest
    frequency: dict[str, int]
    kinds: dict[str, str]
    messages: int
    load: dict[str, Any]
    admin_url: str = ""
    name: str = ""
    kept: bool = True

    def words(self, kind: str, low: int, high: int) -> list[str]:
        return sorted(
            (w for w, n in self.frequency.items() if self.kinds[w] == kind and low <= n <= high),
            key=lambda w: (self.frequency[w], w),
        )


def index_code_digest() -> str:
    """What the stored index depends on: the segmenter, the indexing module, migration 0008."""
    root = Path(__file__).resolve().parent.parent / "src" / "counterline"
    parts = [root / "segmenter.py", root / "messages" / "indexing.py"]
    parts += sorted((root / "migrations" / "versions").glob("0008_*.py"))
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts if p.exists())).hexdigest()[:12]


def meta_path(args: argparse.Namespace) -> Path:
    if args.database_url.startswith("postgresql"):
        return Path(__file__).parent / ".cache" / f"search-{args.reuse}.pg.json"
    return Path(args.reuse + ".json")


def open_bench(args: argparse.Namespace, run_dir: Path) -> Bench:
    """The reused database if it holds what was asked for, else a new one."""
    postgres = args.database_url.startswith("postgresql")
    if postgres:
        name = args.reuse or f"clbench_search_{os.getpid()}_{int(time.time())}"
        if not name.startswith("clbench_search"):
            raise SystemExit("--reuse with PostgreSQL: a database name starting clbench_search")
        url = args.database_url.rsplit("/", 1)[0] + "/" + name
    else:
        path = Path(args.reuse) if args.reuse else run_dir / "search.db"
        url = f"sqlite+aiosqlite:///{path}"
    meta_file = meta_path(args) if args.reuse else None
    if meta_file and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        same = meta["version"] == META_VERSION and meta["messages"] == args.messages
        if same and not args.rebuild:
            print(f"reusing {url} ({args.messages:,} messages, built {meta['load']['built_at']})")
            if meta.get("index_code") != index_code_digest():
                print(
                    "WARNING: the segmenter, indexing or migration 0008 changed since this "
                    "database was indexed; --rebuild to index it with the current code"
                )
            return _bench(url, meta, args, name if postgres else "")
        print(f"rebuilding {url}")
    if postgres:
        asyncio.run(
            _pg_execute(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )
        asyncio.run(_pg_execute(args.database_url, f'CREATE DATABASE "{name}"'))
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    meta = fill(url, args)
    if meta_file:
        meta_file.parent.mkdir(parents=True, exist_ok=True)
        meta_file.write_text(json.dumps(meta, ensure_ascii=False))
    return _bench(url, meta, args, name if postgres else "")


def _bench(url: str, meta: dict[str, Any], args: argparse.Namespace, name: str) -> Bench:
    return Bench(
        url,
        Manifest.from_json(meta["manifest"]),
        meta["frequency"],
        meta["kinds"],
        meta["messages"],
        meta["load"],
        admin_url=args.database_url if name else "",
        name=name,
        kept=bool(args.reuse),
    )


def drop(bench: Bench) -> None:
    if bench.name and not bench.kept:
        asyncio.run(
            _pg_execute(bench.admin_url, f'DROP DATABASE IF EXISTS "{bench.name}" WITH (FORCE)')
        )


def fill(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Migrations, users and rooms (bench.seed through the app's actions), topic rooms and
    memberships, then messages and their index in batches."""
    load: dict[str, Any] = {"built_at": datetime.now(UTC).isoformat(timespec="seconds")}
    started = time.perf_counter()
    manifest = asyncio.run(build(url, Shape(args.branches, args.clerks)))
    load["users_s"] = round(time.perf_counter() - started, 1)
    corpus = Corpus()
    pool: Executor = (
        ProcessPoolExecutor(args.workers, mp_context=get_context("spawn"))
        if args.workers > 1
        else ThreadPoolExecutor(1)  # one worker: no process to start
    )
    with pool:
        asyncio.run(_fill(url, manifest, corpus, args.messages, pool, args.workers, load))
    return {
        "version": META_VERSION,
        "index_code": index_code_digest(),
        "messages": args.messages,
        "manifest": manifest.to_json(),
        "frequency": dict(corpus.frequency),
        "kinds": corpus.kind_of,
        "load": load,
    }


async def _fill(
    url: str,
    manifest: Manifest,
    corpus: Corpus,
    count: int,
    pool: Executor,
    workers: int,
    load: dict[str, Any],
) -> None:
    services = Services.from_settings(Settings(database_url=url))
    try:
        await _topic_rooms(services, manifest)
        started = time.perf_counter()
        postgres = services.database.engine.dialect.name == "postgresql"
        dropped = await _drop_search_indexes(services) if postgres else []
        stats = await _messages(services, manifest, corpus, count, pool, workers)
        load.update(stats)
        load["messages_and_index_s"] = round(time.perf_counter() - started, 1)
        if postgres:
            await _advance_id_sequence(services)
            started = time.perf_counter()
            await _create_indexes(services, dropped)
            load["gin_index_s"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            await _vacuum_analyze(url)
            load["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
    finally:
        await services.database.dispose()
    path = services.database.sqlite_path
    if path is not None:
        started = time.perf_counter()
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        load["checkpoint_s"] = round(time.perf_counter() - started, 1)


async def _topic_rooms(services: Services, manifest: Manifest) -> None:
    """TOPIC_ROOMS invite-only rooms of 20–400 clerks; the admin in every room."""
    rng = random.Random(5)
    users = manifest.users
    async with services.transaction() as unit:
        admin = await get_user_named(unit, "benchadmin")
        assert admin is not None
        for n in range(TOPIC_ROOMS):
            name = f"{TOPICS[n % len(TOPICS)]}{n // len(TOPICS) + 1}群"
            room = await create_topic_room(unit, admin, name, Visibility.invite_only)
            size = min(len(users), max(2, int(20 * (400 / 20) ** rng.random())))
            members = rng.sample(users, size)
            manifest.topic_rooms[name] = {
                "id": room.id,
                "member_ids": [admin.id, *sorted(u.id for u in members)],
            }
        rows = [
            {"room_id": room["id"], "user_id": user_id}
            for room in manifest.topic_rooms.values()
            for user_id in room["member_ids"][1:]
        ]
        branch_rooms = sorted({u.branch_room_id for u in users})
        rows += [{"room_id": room_id, "user_id": admin.id} for room_id in branch_rooms]
        await unit.session.execute(insert(Membership), rows)


def _room_plan(manifest: Manifest) -> tuple[list[int], list[float], dict[int, list[int]]]:
    """Rooms messages go to (a tenth company room, 60 % branch rooms, 30 % topic rooms,
    busiest first) and who may write in each."""
    by_room: dict[int, list[int]] = {}
    for user in manifest.users:
        by_room.setdefault(user.branch_room_id, []).append(user.id)
    branch_rooms = sorted(by_room)
    topics = [room["id"] for room in manifest.topic_rooms.values()]
    for room in manifest.topic_rooms.values():
        by_room[room["id"]] = room["member_ids"][1:]
    by_room[manifest.company_room_id] = [u.id for u in manifest.users]
    rooms = [manifest.company_room_id, *branch_rooms, *topics]
    weights = [0.10, *[0.60 / len(branch_rooms)] * len(branch_rooms)]
    topic_weights = [1 / (rank + 1) for rank in range(len(topics))]
    weights += [0.30 * w / sum(topic_weights) for w in topic_weights]
    return rooms, weights, by_room


async def _messages(
    services: Services,
    manifest: Manifest,
    corpus: Corpus,
    count: int,
    pool: Executor,
    workers: int,
) -> dict[str, Any]:
    """Insert ``count`` messages over the last year in batches; each batch's terms are
    computed in a worker (``indexing.terms_of``) and stored with ``indexing.store_terms``,
    exactly what ``index_messages`` does in the post path."""
    sample = "宽带续费 第0条：请各位柜员注意向客户解释清楚。"
    assert render_body(sample) == f"<p>{sample}</p>", "plain text no longer renders as <p>"
    rng = random.Random(9)
    rooms, weights, writers = _room_plan(manifest)
    branch_of = {u.id: u.branch_room_id for u in manifest.users}
    branches = await _branch_ids(services)
    async with services.reading() as unit:
        first = (await unit.session.scalar(select(Message.id).order_by(Message.id.desc()))) or 0
    end = datetime.now(UTC).replace(microsecond=0)
    start, step = end - timedelta(days=365), timedelta(days=365) / count
    postgres = services.database.engine.dialect.name == "postgresql"
    loop = asyncio.get_running_loop()
    pending: list[asyncio.Future[list[indexing.TermsRow]]] = []
    timings = {"insert_s": 0.0, "store_terms_s": 0.0, "generate_s": 0.0}
    terms = 0

    async def store(future: asyncio.Future[list[indexing.TermsRow]]) -> None:
        nonlocal terms
        computed = await future
        started = time.perf_counter()
        async with services.transaction() as unit:
            await indexing.store_terms(unit.session, computed)
        timings["store_terms_s"] += time.perf_counter() - started
        terms += sum(len(row[2]) for row in computed)

    for offset in range(0, count, BATCH):
        started = time.perf_counter()
        rows = []
        for n in range(offset, min(count, offset + BATCH)):
            room_id = rng.choices(rooms, weights)[0]
            author = rng.choice(writers[room_id])
            body = corpus.body()
            rows.append(
                {
                    "id": first + n + 1,
                    "room_id": room_id,
                    "author_id": author,
                    "author_branch_id": branches[author],
                    "client_id": f"search{n:010d}",
                    "client_ip": f"10.{branch_of[author] % 250}.{n % 250}.{n % 251 + 1}",
                    "body": body,
                    "body_html": f"<p>{body}</p>",
                    "created_at": start + step * n,
                    "seq": 0,
                }
            )
        timings["generate_s"] += time.perf_counter() - started
        started = time.perf_counter()
        await _insert_messages(services, rows, postgres)
        timings["insert_s"] += time.perf_counter() - started
        batch = [(row["id"], row["room_id"], row["body"]) for row in rows]
        pending.append(loop.run_in_executor(pool, indexing.terms_of, batch))
        while len(pending) > workers:  # keep the workers busy, memory bounded
            await store(pending.pop(0))
        print(f"  {offset + len(rows):>10,} messages", end="\r", flush=True)
    for future in pending:
        await store(future)
    print()
    return {
        **{key: round(value, 1) for key, value in timings.items()},
        "terms": terms,
        "terms_per_message": round(terms / max(1, count), 1),
    }


async def _insert_messages(services: Services, rows: list[dict[str, Any]], postgres: bool) -> None:
    async with services.transaction() as unit:
        if not postgres:
            await unit.session.execute(insert(Message), rows)
            return
        connection = await unit.session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        columns = list(rows[0])
        await raw.copy_records_to_table(
            "messages", records=[tuple(row[c] for c in columns) for row in rows], columns=columns
        )


async def _branch_ids(services: Services) -> dict[int, int]:
    async with services.reading() as unit:
        rows = await unit.session.execute(select(User.id, User.branch_id))
        return {user_id: branch_id for user_id, branch_id in rows.all()}


async def _drop_search_indexes(services: Services) -> list[str]:
    """PostgreSQL: the index's secondary indexes, dropped while it is filled in bulk and
    created again afterwards with their own definitions (same index, built once)."""
    async with services.transaction() as unit:
        found = await unit.session.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'message_search' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        )
        definitions = found.all()
        for name, _ in definitions:
            await unit.session.execute(text(f'DROP INDEX "{name}"'))  # names from the catalog
    return [definition for _, definition in definitions]


async def _advance_id_sequence(services: Services) -> None:
    """COPY gave the messages their ids: the next post's id comes after them."""
    async with services.transaction() as unit:
        await unit.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('messages', 'id'), "
                "(SELECT max(id) FROM messages))"
            )
        )


async def _create_indexes(services: Services, definitions: Sequence[str]) -> None:
    async with services.transaction() as unit:
        await unit.session.execute(text("SET maintenance_work_mem = '1GB'"))
        for definition in definitions:
            await unit.session.execute(text(definition))


async def _vacuum_analyze(url: str) -> None:
    connection = await _asyncpg_connect(url)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def _asyncpg_connect(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))


# ---------------------------------------------------------------- what is asked


@dataclass
class Case:
    """Queries of one class, each run ``repeat`` times."""

    name: str
    queries: list[list[str]]  # each query: its words (ANDed)


def cases(bench: Bench, per_class: int) -> list[Case]:
    """Query words of known document frequency, picked spread over their class."""
    n = bench.messages
    rng = random.Random(3)

    def pick(words: list[str], k: int) -> list[str]:
        return sorted(rng.sample(words, k)) if len(words) > k else words

    rare = pick(
        bench.words("rare", 1, max(3, n // 5_000)) + bench.words("cust", 1, max(3, n // 20_000)),
        per_class,
    )
    common = pick(
        [w for kind in ("biz", "device", "place") for w in bench.words(kind, n // 100, n)],
        per_class,
    )
    single = list("费卡表号户单电网")[: max(1, per_class // 5)]
    mids = [w for kind in ("place", "device") for w in bench.words(kind, n // 300, n)]
    heads = bench.words("biz", n // 200, n)
    two = (
        [[rng.choice(heads), rng.choice(mids)] for _ in range(per_class)] if heads and mids else []
    )
    codes = pick(bench.words("code", 1, n), per_class)
    found = [
        Case("rare word", [[w] for w in rare]),
        Case("common word", [[w] for w in common]),
        Case("one character", [[w] for w in single]),
        Case("two words", two),
        Case("resource code", [[w] for w in codes]),
    ]
    return [case for case in found if case.queries]


@dataclass
class Scope:
    name: str
    viewer: str  # username
    room_id: int | None
    rooms: list[int] = field(default_factory=list)  # what the viewer may read


def scopes(bench: Bench) -> list[Scope]:
    manifest = bench.manifest
    clerk = manifest.users[0]
    clerk_rooms = [manifest.company_room_id, clerk.branch_room_id]
    clerk_rooms += [r["id"] for r in manifest.topic_rooms.values() if clerk.id in r["member_ids"]]
    every_room = sorted(
        {manifest.company_room_id, *(u.branch_room_id for u in manifest.users)}
        | {r["id"] for r in manifest.topic_rooms.values()}
        | {manifest.admin.branch_room_id}
    )
    return [
        Scope(f"everything (admin, {len(every_room)} rooms)", "benchadmin", None, every_room),
        Scope(f"a clerk's {len(clerk_rooms)} rooms", clerk.username, None, clerk_rooms),
        Scope("one branch room", "benchadmin", clerk.branch_room_id, [clerk.branch_room_id]),
    ]


# ---------------------------------------------------------------- timing


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


@dataclass
class Timed:
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0
    hits: list[int] = field(default_factory=list)
    capped: bool = False

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = latency_summary(self.latencies)
        out["cpu_ms"] = round(self.cpu / max(1, len(self.latencies)) * 1000, 2)
        out["hits_avg"] = round(sum(self.hits) / max(1, len(self.hits)), 1)
        out["capped"] = self.capped
        return out


async def timed(
    calls: Sequence[Callable[[], Awaitable[int]]], repeat: int, seconds: float
) -> Timed:
    """Each call ``repeat`` times, round-robin, until ``seconds`` are up (then capped)."""
    result = Timed()
    deadline = time.perf_counter() + seconds
    for _ in range(repeat):
        for call in calls:
            wall, cpu = _clock()
            hits = await call()
            result.latencies.append(time.perf_counter() - wall)
            result.cpu += time.process_time() - cpu
            result.hits.append(hits)
            if time.perf_counter() > deadline:
                result.capped = True
                return result
    return result


# ---------------------------------------------------------------- search, in process


def search_api() -> Any:
    """The engine's search action and query type (counterline.search.actions)."""
    try:
        from counterline.search import actions
    except ImportError:
        return None
    return actions if hasattr(actions, "search") else None


async def measure_search(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    api = search_api()
    services = Services.from_settings(Settings(database_url=bench.database_url))
    results: dict[str, Any] = {}
    try:
        viewers = {}
        async with services.reading() as unit:
            for scope in scopes(bench):
                viewers[scope.viewer] = await get_user_named(unit, scope.viewer)
        for scope in scopes(bench):
            viewer = viewers[scope.viewer]
            for case in cases(bench, args.queries):
                key = f"{case.name} | {scope.name}"
                cell: dict[str, Any] = {}
                found: dict[str, list[int]] = {}
                like = [_like_call(services, scope, words, found) for words in case.queries]
                await like[0]()  # warm
                cell["like"] = (await timed(like[: args.like_queries], 1, args.cap)).summary()
                if api is not None:
                    for order in ("newest", "relevance"):
                        calls = [
                            _search_call(api, services, viewer, scope, w, order)
                            for w in case.queries
                        ]
                        await calls[0]()
                        cell[order] = (await timed(calls, args.repeat, args.cap)).summary()
                    cell["agreement"] = await _agreement(api, services, viewer, scope, case, found)
                results[key] = cell
                print(f"  ... {key}: {_cell_line(cell)}", flush=True)
    finally:
        await services.database.dispose()
    return results


def _search_call(
    api: Any, services: Services, viewer: User, scope: Scope, words: list[str], order: str
) -> Callable[[], Awaitable[int]]:
    query = api.SearchQuery(
        zone=services.settings.zone, q=" ".join(words), room=scope.room_id, order=order, limit=LIMIT
    )

    async def call() -> int:
        async with services.reading() as unit:
            page = await api.search(unit, viewer, query)
        return len(page.results)

    return call


def _like_call(
    services: Services, scope: Scope, words: list[str], found: dict[str, list[int]]
) -> Callable[[], Awaitable[int]]:
    """The baseline: ``body LIKE '%word%'`` for each word, the viewer's rooms, not deleted,
    newest first, top 20 (bound parameters; ``contains`` escapes % and _). The ids it
    finds are kept in ``found`` (by query) to check the engine's answers against."""
    statement = (
        select(Message.id)
        .where(
            Message.room_id.in_(scope.rooms if scope.room_id is None else [scope.room_id]),
            Message.deleted_at.is_(None),
            *(Message.body.contains(word, autoescape=True) for word in words),
        )
        .order_by(Message.id.desc())
        .limit(LIMIT)
    )

    async def call() -> int:
        async with services.reading() as unit:
            ids = list((await unit.session.scalars(statement)).all())
        found[" ".join(words)] = ids
        return len(ids)

    return call


async def _agreement(
    api: Any,
    services: Services,
    viewer: User,
    scope: Scope,
    case: Case,
    like: dict[str, list[int]],
) -> dict[str, int]:
    """Are the engine's newest-first results LIKE's (same ids, same order) for the queries
    the baseline ran? The corpus has no case or width variants, so they must be."""
    same = checked = 0
    for words in case.queries:
        q = " ".join(words)
        if q not in like:
            continue
        query = api.SearchQuery(zone=services.settings.zone, q=q, room=scope.room_id, limit=LIMIT)
        async with services.reading() as unit:
            page = await api.search(unit, viewer, query)
        checked += 1
        same += [result.message_id for result in page.results] == like[q]
    return {"checked": checked, "same": same}


def _cell_line(cell: dict[str, Any]) -> str:
    parts = []
    for kind in ("newest", "relevance", "like"):
        if kind in cell:
            f = cell[kind]
            capped = " (capped)" if f["capped"] else ""
            parts.append(
                f"{kind} p50 {f['p50_ms']} / p99 {f['p99_ms']} ms ({f['cpu_ms']} ms CPU) "
                f"×{f['count']}{capped}"
            )
    if "agreement" in cell:
        parts.append(f"same as LIKE {cell['agreement']['same']}/{cell['agreement']['checked']}")
    return "; ".join(parts)


async def explain_slowest(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """For one query of each class over everything the admin may read: the slowest SQL
    statement the search ran, its time and the database's plan for it (EXPLAIN QUERY PLAN
    on SQLite, EXPLAIN ANALYZE on PostgreSQL)."""
    api = search_api()
    if api is None:
        return {}
    services = Services.from_settings(Settings(database_url=bench.database_url))
    engine = services.database.engine.sync_engine
    log: list[tuple[float, str, Any]] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        context.bench_started = time.perf_counter()

    def after(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        log.append((time.perf_counter() - context.bench_started, statement, parameters))

    out: dict[str, Any] = {}
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        scope = scopes(bench)[0]
        async with services.reading() as unit:
            viewer = await get_user_named(unit, scope.viewer)
        for case in cases(bench, args.queries):
            for order in ("newest", "relevance"):
                words = case.queries[len(case.queries) // 2]
                call = _search_call(api, services, viewer, scope, words, order)
                await call()
                log.clear()
                started = time.perf_counter()
                await call()
                total = time.perf_counter() - started
                ran = [entry for entry in log if entry[1].lstrip().upper().startswith("SELECT")]
                # Again, with all rows fetched: SQLite does most of its work while fetching.
                timed_again = [(await _run_time(services, s, p), s, p) for _, s, p in ran]
                seconds, statement, parameters = max(timed_again, key=lambda entry: entry[0])
                out[f"{case.name} ({' '.join(words)}), {order}"] = {
                    "search_ms": round(total * 1000, 2),
                    "statements": len(ran),
                    "slowest_ms": round(seconds * 1000, 2),
                    "statement": re.sub(r"(?:\?, ){3,}\?", "?, …", " ".join(statement.split())),
                    "plan": await _plan_of(services, statement, parameters),
                }
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        await services.database.dispose()
    return out


async def _run_time(services: Services, statement: str, parameters: Any) -> float:
    """The quickest of three runs (the machine is shared: one run can wait for a core)."""
    best = float("inf")
    async with services.reading() as unit:
        connection = await unit.session.connection()
        for _ in range(3):
            started = time.perf_counter()
            (await connection.exec_driver_sql(statement, parameters)).all()
            best = min(best, time.perf_counter() - started)
    return best


async def _plan_of(services: Services, statement: str, parameters: Any) -> list[str]:
    postgres = services.database.engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    async with services.reading() as unit:
        connection = await unit.session.connection()
        rows = (await connection.exec_driver_sql(prefix + statement, parameters)).all()
    if postgres:
        return [row[0] for row in rows]
    return [f"{row[1]}>{row[0]} {row[3]}" for row in rows]


# ---------------------------------------------------------------- history pages


async def measure_history(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """Newest page, a ``before=`` page in the older half of the room, a ``day=`` page,
    through ``messages.actions.list_messages`` (50 messages); baseline: the bare indexed
    query for the same page."""
    services = Services.from_settings(Settings(database_url=bench.database_url))
    manifest = bench.manifest
    rooms = {
        "company room": manifest.company_room_id,
        "branch room": manifest.users[0].branch_room_id,
    }
    zone = services.settings.zone
    rng = random.Random(4)
    out: dict[str, Any] = {}
    try:
        async with services.reading() as unit:
            viewer = await get_user_named(unit, "benchadmin")
            assert viewer is not None
        for room_name, room_id in rooms.items():
            async with services.reading() as unit:
                ids = (
                    await unit.session.scalars(
                        select(Message.id).where(Message.room_id == room_id).order_by(Message.id)
                    )
                ).all()
            today = datetime.now(zone).date()
            pages: dict[str, list[dict[str, Any]]] = {
                "newest page": [{}],
                "before= deep": [
                    {"before": ids[rng.randrange(len(ids) // 10, len(ids) // 2)]} for _ in range(50)
                ],
                "day=": [{"day": today - timedelta(days=rng.randint(1, 364))} for _ in range(50)],
            }
            for page_name, options in pages.items():
                calls = [_page_call(services, viewer, room_id, o, zone) for o in options]
                bare = [_bare_page_call(services, room_id, o, zone) for o in options]
                await calls[0]()
                await bare[0]()
                out[f"{page_name} | {room_name}"] = {
                    "action": (
                        await timed(calls, args.history_repeat // len(calls) or 1, args.cap)
                    ).summary(),
                    "bare query": (
                        await timed(bare, args.history_repeat // len(bare) or 1, args.cap)
                    ).summary(),
                    "room_messages": len(ids),
                }
    finally:
        await services.database.dispose()
    return out


def _page_call(
    services: Services, viewer: User, room_id: int, options: dict[str, Any], zone: Any
) -> Callable[[], Awaitable[int]]:
    async def call() -> int:
        async with services.reading() as unit:
            page = await list_messages(unit, viewer, room_id, zone=zone, **options)
        return len(page.messages)

    return call


def _bare_page_call(
    services: Services, room_id: int, options: dict[str, Any], zone: Any
) -> Callable[[], Awaitable[int]]:
    statement = select(Message.id, Message.body).where(Message.room_id == room_id)
    if "before" in options:
        statement = statement.where(Message.id < options["before"]).order_by(Message.id.desc())
    elif "day" in options:
        since = datetime.combine(options["day"], datetime.min.time(), tzinfo=zone)
        statement = statement.where(Message.created_at >= since).order_by(Message.created_at)
    else:
        statement = statement.order_by(Message.id.desc())
    statement = statement.limit(51)

    async def call() -> int:
        async with services.reading() as unit:
            return len((await unit.session.execute(statement)).all())

    return call


# ---------------------------------------------------------------- segmenters


def measure_segmenters(bench: Bench, sample: int) -> dict[str, Any]:
    """jieba and rjieba search-mode cuts over the same bodies, and the app's index_terms;
    whether each takes custom words at runtime."""
    bodies = asyncio.run(_bodies(bench.database_url, sample))
    chars = sum(len(b) for b in bodies)
    out: dict[str, Any] = {"messages": len(bodies), "chars": chars}
    import jieba
    import rjieba

    from counterline.segmenter import index_terms

    jieba.setLogLevel(60)
    started = time.perf_counter()
    jieba.initialize()
    jieba_init = time.perf_counter() - started
    started = time.perf_counter()
    rj = rjieba.Jieba()
    rjieba_init = time.perf_counter() - started
    subjects: dict[str, tuple[Callable[[str], Any], float]] = {
        "jieba.cut_for_search": (lambda s: list(jieba.cut_for_search(s)), jieba_init),
        "rjieba.cut_for_search": (rj.cut_for_search, rjieba_init),
        "index_terms (app)": (index_terms, 0.0),
    }
    for name, (cut, init) in subjects.items():
        cut(bodies[0])
        started = time.perf_counter()
        for body in bodies:
            cut(body)
        seconds = time.perf_counter() - started
        out[name] = {
            "chars_per_s": round(chars / seconds),
            "messages_per_s": round(len(bodies) / seconds),
            "us_per_message": round(seconds / len(bodies) * 1e6, 1),
            "dictionary_load_s": round(init, 2),
        }
    word = "融合宽带畅享包"
    before_j, before_r = list(jieba.cut_for_search(word)), rj.cut_for_search(word)
    jieba.add_word(word)
    rj.add_word(word, None, None)
    out["custom words at runtime"] = {
        "word": word,
        "jieba": {"before": before_j, "after": list(jieba.cut_for_search(word))},
        "rjieba": {"before": before_r, "after": rj.cut_for_search(word)},
    }
    return out


async def _bodies(url: str, count: int) -> list[str]:
    services = Services.from_settings(Settings(database_url=url))
    try:
        async with services.reading() as unit:
            found = await unit.session.scalars(
                select(Message.body).order_by(Message.id).limit(count)
            )
            return list(found.all())
    finally:
        await services.database.dispose()


# ---------------------------------------------------------------- over HTTP, and freshness


@contextmanager
def live_server(bench: Bench, args: argparse.Namespace, run_dir: Path) -> Iterator[Server]:
    server = counterline_server(
        run_dir, bench.database_url, name="counterline", app=args.app, profile=args.profile
    )
    try:
        yield server
    finally:
        server.stop()


async def http_search(server: Server, bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """The same searches as GET /api/v1/search, one at a time on a kept-alive connection;
    with the server's CPU per request."""
    port = server.port
    tokens = {"benchadmin": bench.manifest.admin.token}
    tokens.update({u.username: u.token for u in bench.manifest.users[:1]})
    connection = await Connection("127.0.0.1", port).open()
    out: dict[str, Any] = {}
    try:
        for scope in scopes(bench):
            for case in cases(bench, args.queries):
                raws = []
                for words in case.queries:
                    params = {"q": " ".join(words), "limit": LIMIT}
                    if scope.room_id is not None:
                        params["room"] = scope.room_id
                    path = "/api/v1/search?" + urllib.parse.urlencode(params)
                    raws.append(
                        build_request(
                            "GET", path, {"Authorization": f"Bearer {tokens[scope.viewer]}"}
                        )
                    )
                statuses: dict[int, int] = {}
                calls = [_http_call(connection, raw, statuses) for raw in raws]
                await calls[0]()
                with Meter(server.pids()) as meter:
                    figures = (await timed(calls, args.repeat, args.cap)).summary()
                figures["server_cpu_ms"] = round(meter.cpu / max(1, figures["count"]) * 1000, 2)
                figures["statuses"] = statuses
                out[f"{case.name} | {scope.name}"] = figures
    finally:
        await connection.close()
    return out


def _http_call(
    connection: Connection, raw: bytes, statuses: dict[int, int]
) -> Callable[[], Awaitable[int]]:
    async def call() -> int:
        response = await connection.send(raw)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if response.status != 200:
            return 0
        return len(json.loads(response.body)["results"])

    return call


async def freshness(port: int, bench: Bench, posts: int) -> dict[str, Any]:
    """Post over HTTP, then search (GET /api/v1/search) for its unique code until found:
    the time from the post's acknowledgement to the first search that finds it."""
    user = bench.manifest.users[0]
    headers = {"Authorization": f"Bearer {user.token}", "Content-Type": "application/json"}
    poster = await Connection("127.0.0.1", port).open()
    searcher = await Connection("127.0.0.1", port).open()
    delays, searches, missing = [], [], 0
    stamp = f"{os.getpid():x}{int(time.time()) % 100000:x}"
    try:
        for n in range(posts):
            code = f"FR{stamp}X{n:04d}"
            body = json.dumps(
                {"body": f"新鲜度测试 {code} 请核对", "client_id": f"fresh-{stamp}-{n}"}
            )
            response = await poster.send(
                build_request(
                    "POST", f"/api/v1/rooms/{user.branch_room_id}/messages", headers, body.encode()
                )
            )
            if response.status not in (200, 201):
                raise RuntimeError(f"post answered {response.status}: {response.body[:200]!r}")
            acked = time.perf_counter()
            path = "/api/v1/search?" + urllib.parse.urlencode(
                {"q": code, "room": user.branch_room_id}
            )
            raw = build_request("GET", path, {"Authorization": f"Bearer {user.token}"})
            tries = 0
            while True:
                tries += 1
                found = await searcher.send(raw)
                if found.status == 200 and json.loads(found.body)["results"]:
                    delays.append(time.perf_counter() - acked)
                    searches.append(tries)
                    break
                if time.perf_counter() - acked > 5:
                    missing += 1
                    break
    finally:
        await poster.close()
        await searcher.close()
    return {
        **latency_summary(delays),
        "not_found_in_5s": missing,
        "searches_until_found_max": max(searches, default=0),
        "within_1s": sum(d <= 1.0 for d in delays),
    }


# ---------------------------------------------------------------- report


def verdict(figures: dict[str, Any]) -> str:
    ok = figures["p50_ms"] <= TARGET_P50_MS and figures["p99_ms"] <= TARGET_P99_MS
    return "met" if ok else "MISSED"


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--reuse",
        default="",
        help="keep the database here and reuse it: a SQLite file, or with --database-url a "
        "PostgreSQL database name starting clbench_search",
    )
    parser.add_argument("--queries", type=int, default=40, help="query words per class")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each query")
    parser.add_argument(
        "--like-queries", type=int, default=10, help="LIKE baseline queries per class"
    )
    parser.add_argument("--history-repeat", type=int, default=500, help="history pages per kind")
    parser.add_argument(
        "--cap", type=float, default=30.0, help="at most this many seconds per figure"
    )
    parser.add_argument(
        "--segmenter-sample", type=int, default=50_000, help="messages cut by each segmenter"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes computing terms while loading",
    )
    parser.add_argument(
        "--explain", action="store_true", help="the plan of each class's slowest statement"
    )
    parser.add_argument(
        "--skip-search", action="store_true", help="not the in-process searches (the rest only)"
    )
    parser.add_argument("--rebuild", action="store_true", help="fill the --reuse database again")
    parser.add_argument(
        "--build-only", action="store_true", help="fill the database, measure nothing"
    )
    parser.add_argument(
        "--http", action="store_true", help="also the searches over HTTP (a live server)"
    )
    parser.add_argument(
        "--freshness", type=int, default=0, help="posts timed until findable (live server)"
    )
    args = parser.parse_args()
    args.branches, args.clerks = BRANCHES, CLERKS
    if args.short:
        args.messages, args.queries, args.repeat, args.like_queries = 2_000, 3, 1, 2
        args.history_repeat, args.cap, args.segmenter_sample = 10, 5.0, 500
        args.branches, args.clerks, args.workers = 5, 20, 1
        args.http, args.freshness = True, args.freshness or 5
    header(f"search: newest-first top {LIMIT}, {args.messages:,} messages in the database")
    print(f"database: {'PostgreSQL' if args.database_url.startswith('postgresql') else 'SQLite'}")
    results: dict[str, Any] = {"targets_ms": {"p50": TARGET_P50_MS, "p99": TARGET_P99_MS}}
    failure = ""
    with run_directory(args, "search") as run_dir:
        with phase(results, "database"):
            bench = open_bench(args, run_dir)
        if args.build_only:
            print(f"load: {bench.load}")
            return
        try:
            results["load"] = bench.load
            results["messages"] = bench.messages
            measure_all(bench, args, run_dir, results)
        except Exception as error:  # report what was measured, then fail
            failure = f"{type(error).__name__}: {error}"
            raise
        finally:
            drop(bench)
            print_report(results)
            emit_json("search", results)
            if failure:
                print(f"FAILED: {failure}")


@contextmanager
def phase(results: dict[str, Any], name: str) -> Iterator[None]:
    """Time a phase of the run (reported, so a slow phase shows where the time went)."""
    started = time.perf_counter()
    yield
    results.setdefault("phase_s", {})[name] = round(time.perf_counter() - started, 1)


def measure_all(
    bench: Bench, args: argparse.Namespace, run_dir: Path, results: dict[str, Any]
) -> None:
    if not args.skip_search:
        cpu = time.process_time()
        with phase(results, "search"), MachineMeter() as machine:
            results["search"] = asyncio.run(measure_search(bench, args))
        own = (time.process_time() - cpu) / max(machine.wall, 0.001)
        results["search_others_cores"] = round(max(0.0, machine.cores - own), 2)
    if args.explain:
        with phase(results, "explain"):
            results["explain"] = asyncio.run(explain_slowest(bench, args))
    with phase(results, "history"):
        results["history"] = asyncio.run(measure_history(bench, args))
    with phase(results, "segmenters"):
        results["segmenters"] = measure_segmenters(bench, args.segmenter_sample)
    if not (args.http or args.freshness):
        return
    with phase(results, "live server"), live_server(bench, args, run_dir) as server:
        if args.http:
            with phase(results, "http"):
                results["http"] = asyncio.run(http_search(server, bench, args))
        if args.freshness:
            with phase(results, "freshness"):
                results["freshness"] = asyncio.run(freshness(server.port, bench, args.freshness))


def print_report(results: dict[str, Any]) -> None:
    if "load" not in results:
        return
    load = results["load"]
    rows = [
        (
            "database",
            f"{results['messages']:,} messages, {load['terms_per_message']} index terms each; "
            f"filled in {load['users_s'] + load['messages_and_index_s']:.0f} s (users and rooms "
            f"{load['users_s']} s; messages {load['insert_s']} s, storing terms "
            f"{load['store_terms_s']} s, built {load['built_at']})",
        )
    ]
    met = total = 0
    for key, cell in results.get("search", {}).items():
        like = cell["like"]
        if "newest" not in cell:
            rows.append(
                (key, f"no search action yet; LIKE p50 {like['p50_ms']} / p99 {like['p99_ms']} ms")
            )
            continue
        newest, ranked = cell["newest"], cell["relevance"]
        total += 1
        met += verdict(newest) == "met"
        ratio = like["p50_ms"] / max(newest["p50_ms"], 0.001)
        rows.append(
            (
                key,
                f"newest p50 {newest['p50_ms']} / p99 {newest['p99_ms']} ms {verdict(newest)}"
                f"{' (capped)' if newest['capped'] else ''} ({newest['cpu_ms']} ms CPU, "
                f"{newest['hits_avg']} hits); relevance {ranked['p50_ms']} / "
                f"{ranked['p99_ms']} ms ({ranked['cpu_ms']} ms CPU); "
                f"LIKE {like['p50_ms']} / {like['p99_ms']} ms ({ratio:.1f}x newest p50); "
                f"same ids as LIKE {cell['agreement']['same']}/{cell['agreement']['checked']}",
            )
        )
    if total:
        rows.append(
            (
                f"target newest p50 ≤ {TARGET_P50_MS:g} / p99 ≤ {TARGET_P99_MS:g} ms",
                f"met in {met} of {total} (class | scope); "
                f"others on the machine: {results['search_others_cores']} cores",
            )
        )
    for key, found in results.get("explain", {}).items():
        rows.append(
            (
                f"slowest statement: {key}",
                f"{found['slowest_ms']} ms of {found['search_ms']} ms ({found['statements']} "
                f"statements): {found['statement']}",
            )
        )
        rows += [("", f"  {line}") for line in found["plan"]]
    for key, cell in results.get("history", {}).items():
        a, b = cell["action"], cell["bare query"]
        rows.append(
            (
                f"history {key}",
                f"p50 {a['p50_ms']} / p99 {a['p99_ms']} ms ({a['cpu_ms']} ms CPU; "
                f"{cell['room_messages']:,} messages in the room); bare query "
                f"{b['p50_ms']} / {b['p99_ms']} ms",
            )
        )
    segmenters = results.get("segmenters", {})
    for name in ("jieba.cut_for_search", "rjieba.cut_for_search", "index_terms (app)"):
        if name not in segmenters:
            continue
        f = segmenters[name]
        rows.append(
            (
                f"segmenter {name}",
                f"{f['chars_per_s']:,} chars/s, {f['messages_per_s']:,} messages/s "
                f"({f['us_per_message']} µs each; dictionary loaded in {f['dictionary_load_s']} s)",
            )
        )
    custom = segmenters.get("custom words at runtime")
    rows += (
        []
        if custom is None
        else [
            (
                "segmenter custom words at runtime",
                "; ".join(
                    f"{name} {'yes' if custom['word'] in custom[name]['after'] else 'NO'} "
                    f"({'/'.join(custom[name]['before'])} → {'/'.join(custom[name]['after'])})"
                    for name in ("jieba", "rjieba")
                ),
            )
        ]
    )
    for key, figures in results.get("http", {}).items():
        rows.append(
            (
                f"HTTP {key}",
                f"p50 {figures['p50_ms']} / p99 {figures['p99_ms']} ms "
                f"({figures['server_cpu_ms']} ms server CPU), statuses {figures['statuses']}",
            )
        )
    if "freshness" in results:
        f = results["freshness"]
        rows.append(
            (
                "findable after acknowledgement",
                f"p50 {f['p50_ms']} / p99 {f['p99_ms']} / max {f['max_ms']} ms over {f['count']} "
                f"posts; {f['within_1s']} within 1 s, {f['not_found_in_5s']} not found in 5 s",
            )
        )
    rows.append(
        ("phases", ", ".join(f"{name} {s:g} s" for name, s in results.get("phase_s", {}).items()))
    )
    report(rows)


if __name__ == "__main__":
    main()
