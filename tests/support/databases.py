"""Per-test databases: a copy of a migrated, seeded template (SQLite file or PostgreSQL DB)."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import asyncpg

from counterline.config import Settings
from counterline.migrate import upgrade
from counterline.services import Services
from tests.cast import Cast, seed


async def build_template(settings: Settings) -> Cast:
    services = Services.from_settings(settings)
    try:
        await upgrade(services.database)
        return await seed(services)
    finally:
        await services.database.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return sqlite_url(target)


def _dsn(url: str, database: str | None = None) -> str:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    if database is not None:
        dsn = dsn.rsplit("/", 1)[0] + "/" + database
    return dsn


class PostgresDatabases:
    """Creates throw-away databases on the shared server and drops them afterwards."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"cl_test_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def url_of(self, name: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    async def _execute(self, sql: str) -> None:
        connection = await asyncpg.connect(_dsn(self.admin_url))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        # Identifiers cannot be bound parameters; these names are generated above.
        clause = f' TEMPLATE "{template}"' if template else ""
        await self._execute(f'CREATE DATABASE "{name}"{clause}')
        self.created.append(name)
        return name

    async def drop_all(self) -> None:
        for name in reversed(self.created):
            await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)
