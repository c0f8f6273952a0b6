"""Benchmark databases: branches of clerks with API tokens, seeded once into a template.

A template is built through Counterline's own actions (``add_branch``, ``add_user``,
``create_topic_room``, ``add_member``, ``create_api_token``), so it holds exactly what
the product would store. Two shortcuts keep it fast, neither touching production code:

- every bench user has the same password, so it is hashed with argon2 once and that real
  hash (production parameters) is reused for each ``add_user`` call;
- the optional history (up to millions of messages) is bulk-inserted as the rows
  ``post_message`` would write (author, branch snapshot, client IP, server time).

Templates are cached under ``bench/.cache`` (SQLite file, or a PostgreSQL database named
``clbench_<key>_<random>``, its name recorded there) and each run gets a fresh copy.

    python -m bench.seed --branches 50 --clerks 20        # build (or reuse) and print the key
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import hashlib
import os
import random
import secrets
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, select

import counterline
from bench.manifest import PASSWORD, BenchUser, Manifest
from counterline.accounts import actions as account_actions
from counterline.accounts.models import Role, User
from counterline.config import Settings
from counterline.db import Unit
from counterline.messages.models import Message
from counterline.messages.queries import latest_message_id
from counterline.messages.rendering import render_body
from counterline.migrate import MIGRATIONS, upgrade
from counterline.people.actions import add_branch, add_user
from counterline.rooms.actions import add_member, create_topic_room, open_company_room
from counterline.rooms.conversations import dm_key, start_conversation
from counterline.rooms.models import Visibility
from counterline.rooms.queries import find_branch_room
from counterline.services import Services

CACHE_DIR = Path(__file__).parent / ".cache"
SEED_VERSION = "3"
HEAD_OFFICE = "总部"


@dataclass(frozen=True)
class Shape:
    """What a bench database holds."""

    branches: int
    clerks: int
    topic_rooms: tuple[tuple[str, int], ...] = ()
    history_messages: int = 0
    # 1:1 conversations between clerks 1 and 2, 3 and 4… of each branch (bench.fanout).
    conversations_per_branch: int = 0

    def key(self) -> str:
        # By content: a migration still being written changes the template too.
        versions = sorted(
            (p.name, hashlib.sha256(p.read_bytes()).hexdigest()[:12])
            for p in (MIGRATIONS / "versions").glob("*.py")
        )
        source = (Path(__file__).read_bytes(), counterline.__version__, versions, SEED_VERSION)
        digest = hashlib.sha256(repr((asdict(self), source)).encode()).hexdigest()[:10]
        return f"b{self.branches}x{self.clerks}_h{self.history_messages}_{digest}"


@asynccontextmanager
async def one_hash_for_all(password: str) -> AsyncIterator[None]:
    """Hash the shared bench password once (real argon2) and reuse it for every user."""
    real = account_actions.hash_password
    digest = await real(password)

    async def reuse(given: str) -> str:
        return digest if given == password else await real(given)

    account_actions.hash_password = reuse
    try:
        yield
    finally:
        account_actions.hash_password = real


async def _seed(services: Services, shape: Shape) -> Manifest:
    users: list[BenchUser] = []
    async with one_hash_for_all(PASSWORD):
        async with services.transaction() as unit:
            company = await open_company_room(unit)
            head = await add_branch(unit, HEAD_OFFICE)
            admin, _ = await add_user(
                unit,
                username="benchadmin",
                display_name="压测管理员",
                branch=head,
                role=Role.admin,
                password=PASSWORD,
            )
            token, _ = await account_actions.create_api_token(unit, admin)
            head_room = await _branch_room_id(unit, head.id)
            bench_admin = BenchUser(admin.id, admin.username, token, head_room)
            admin_id = admin.id
        for b in range(1, shape.branches + 1):
            async with services.transaction() as unit:
                branch = await add_branch(unit, f"网点{b:03d}营业厅")
                room_id = await _branch_room_id(unit, branch.id)
                for c in range(1, shape.clerks + 1):
                    user, _ = await add_user(
                        unit,
                        username=f"b{b:03d}c{c:02d}",
                        display_name=f"柜员{b:03d}-{c:02d}",
                        branch=branch,
                        role=Role.clerk,
                        password=PASSWORD,
                    )
                    token, _ = await account_actions.create_api_token(unit, user)
                    users.append(BenchUser(user.id, user.username, token, room_id))
    manifest = Manifest(company_room_id=company.id, admin=bench_admin, users=users)
    for name, size in shape.topic_rooms:
        async with services.transaction() as unit:
            admin_user = await account_actions.get_user_named(unit, "benchadmin")
            room = await create_topic_room(unit, admin_user, name, Visibility.invite_only)
            member_ids = [admin_id]
            for user in users[:size]:
                await add_member(unit, room, user.id)
                member_ids.append(user.id)
            manifest.topic_rooms[name] = {"id": room.id, "member_ids": member_ids}
    if shape.conversations_per_branch:
        await _seed_conversations(services, manifest, shape)
    if shape.history_messages:
        manifest.history = await _seed_history(services, manifest, shape.history_messages)
    return manifest


async def _seed_conversations(services: Services, manifest: Manifest, shape: Shape) -> None:
    """Direct-message pairs inside each branch, started as the app starts them."""
    pairs = min(shape.conversations_per_branch, shape.clerks // 2)
    for b in range(shape.branches):
        paired = manifest.users[b * shape.clerks : b * shape.clerks + 2 * pairs]
        async with services.transaction() as unit:
            for first, second in zip(paired[0::2], paired[1::2], strict=True):
                creator = await account_actions.get_user_named(unit, first.username)
                started = await start_conversation(unit, creator, [second.username])
                key = dm_key(first.id, second.id)
                manifest.conversations[key] = {
                    "id": started.room.id,
                    "member_ids": [first.id, second.id],
                }


async def _branch_room_id(unit: Unit, branch_id: int) -> int:
    room = await find_branch_room(unit.session, branch_id)
    assert room is not None
    return room.id


async def _seed_history(services: Services, manifest: Manifest, count: int) -> dict[str, Any]:
    """Bulk-insert ``count`` messages: a fifth in the company room, the rest in branch rooms."""
    rng = random.Random(7)
    branch_rooms = sorted({u.branch_room_id for u in manifest.users})
    by_room: dict[int, list[BenchUser]] = {}
    for user in manifest.users:
        by_room.setdefault(user.branch_room_id, []).append(user)
    branch_of_user = await _branch_ids(services)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / count
    phrases = ["新宽带资费下月起执行", "机顶盒押金怎么退", "资源编码 B1E0 核对", "请确认终端型号"]
    sample = f"{phrases[0]} 第0条：请各位柜员注意向客户解释清楚。"
    assert render_body(sample) == f"<p>{sample}</p>", "plain text no longer renders as <p>"
    done = 0
    while done < count:
        rows = []
        for n in range(done, min(count, done + 10_000)):
            if rng.random() < 0.2:
                room_id = manifest.company_room_id
                author = rng.choice(manifest.users)
            else:
                room_id = rng.choice(branch_rooms)
                author = rng.choice(by_room[room_id])
            body = f"{rng.choice(phrases)} 第{n}条：请各位柜员注意向客户解释清楚。"
            rows.append(
                {
                    "room_id": room_id,
                    "author_id": author.id,
                    "author_branch_id": branch_of_user[author.id],
                    "client_id": f"history{n:010d}",
                    "client_ip": f"10.{n % 200}.{n % 250}.{n % 251 + 1}",
                    "body": body,
                    "body_html": f"<p>{body}</p>",  # what render_body gives plain text
                    "created_at": start + step * n,
                }
            )
        async with services.transaction() as unit:
            await unit.session.execute(insert(Message), rows)
        done += len(rows)
    async with services.reading() as unit:
        last = await latest_message_id(unit.session)
    return {"count": count, "first_id": last - count + 1, "last_id": last}


async def _branch_ids(services: Services) -> dict[int, int]:
    async with services.reading() as unit:
        rows = await unit.session.execute(select(User.id, User.branch_id))
        return {user_id: branch_id for user_id, branch_id in rows.all()}


async def build(database_url: str, shape: Shape) -> Manifest:
    services = Services.from_settings(Settings(database_url=database_url))
    try:
        await upgrade(services.database)
        return await _seed(services, shape)
    finally:
        await services.database.dispose()


def _pg_dsn(url: str, database: str | None = None) -> str:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    return dsn if database is None else dsn.rsplit("/", 1)[0] + "/" + database


async def _pg_execute(admin_url: str, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(_pg_dsn(admin_url))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


@dataclass
class Provisioned:
    """A fresh database for one run, and how to get rid of it."""

    database_url: str
    manifest: Manifest
    admin_url: str = ""
    name: str = ""

    def drop(self) -> None:
        if self.admin_url and self.name:
            # The name is generated by provision(), never user input.
            asyncio.run(
                _pg_execute(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            )


@contextlib.contextmanager
def _held(lock_path: Path) -> Iterator[None]:
    """An exclusive lock on ``lock_path`` across processes, for the block."""
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def provision(
    shape: Shape,
    run_dir: Path,
    *,
    database_url: str = "",
    cache_dir: Path = CACHE_DIR,
    log: Any = print,
) -> Provisioned:
    """A copy of the (cached) template for ``shape``: SQLite file in run_dir, or a new PG db."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = shape.key()
    if database_url.startswith("postgresql"):
        return _provision_postgres(shape, key, database_url, cache_dir, log)
    template = cache_dir / f"{key}.db"
    manifest_path = cache_dir / f"{key}.json"
    # One builder at a time: two benches seeding the same shape at once (CI runs the short
    # modes side by side) could leave one's manifest beside the other's database, every
    # token in it unknown to the server.
    with _held(cache_dir / f"{key}.lock"):
        if not (template.exists() and manifest_path.exists()):
            started = time.monotonic()
            log(f"seeding template {template.name} (once; cached in {cache_dir}) ...")
            building = cache_dir / f"{key}.{os.getpid()}.building.db"
            manifest = asyncio.run(build(f"sqlite+aiosqlite:///{building}", shape))
            with sqlite3.connect(building) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            manifest_path.write_text(manifest.to_json())
            building.replace(template)
            log(f"seeded in {time.monotonic() - started:.1f} s")
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / "counterline.db"
    shutil.copyfile(template, target)
    return Provisioned(
        f"sqlite+aiosqlite:///{target}", Manifest.from_json(manifest_path.read_text())
    )


def _provision_postgres(
    shape: Shape, key: str, admin_url: str, cache_dir: Path, log: Any
) -> Provisioned:
    # The template lives in the PostgreSQL server, its manifest (the tokens) in this checkout:
    # each checkout names its own template, so another one rebuilding its template can't
    # leave this manifest's tokens pointing at a database that no longer has them.
    manifest_path = cache_dir / f"{key}.pg.json"
    template_path = cache_dir / f"{key}.pg.template"
    template = template_path.read_text().strip() if template_path.exists() else ""
    found = template and asyncio.run(
        _pg_execute(admin_url, "SELECT 1 FROM pg_database WHERE datname = $1", template)
    )
    if not (found and manifest_path.exists()):
        started = time.monotonic()
        template = f"clbench_{key}_{secrets.token_hex(4)}"
        log(f"seeding PostgreSQL template {template} (once) ...")
        asyncio.run(_pg_execute(admin_url, f'CREATE DATABASE "{template}"'))
        url = admin_url.rsplit("/", 1)[0] + "/" + template
        manifest_path.write_text(asyncio.run(build(url, shape)).to_json())
        template_path.write_text(template)
        log(f"seeded in {time.monotonic() - started:.1f} s")
    name = f"clbench_run_{os.getpid()}_{int(time.time())}"
    asyncio.run(_pg_execute(admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return Provisioned(
        admin_url.rsplit("/", 1)[0] + "/" + name,
        Manifest.from_json(manifest_path.read_text()),
        admin_url=admin_url,
        name=name,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--clerks", type=int, default=20)
    parser.add_argument("--history", type=int, default=0)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    shape = Shape(args.branches, args.clerks, history_messages=args.history)
    run_dir = CACHE_DIR / "probe"
    provisioned = provision(shape, run_dir, database_url=args.database_url)
    print(f"template {shape.key()}: {len(provisioned.manifest.users)} users")
    provisioned.drop()
    shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
