"""Database engine, declarative base and the per-request unit of work.

SQLite runs in WAL mode, its calls on the event loop's thread (see sqlite_inline);
write transactions start with ``BEGIN IMMEDIATE`` so a writer never fails halfway.
Reads use plain deferred transactions and never block writers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import DateTime, MetaData, event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from counterline.config import DATABASE_MAX_OVERFLOW, DATABASE_POOL_SIZE
from counterline.sqlite_inline import InlineConnection, inline_connector

if TYPE_CHECKING:
    from counterline.realtime.events import Event

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


async def ping(session: AsyncSession) -> None:
    """Raise if the database does not answer."""
    await session.execute(text("SELECT 1"))


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(
    url: str, *, pool_size: int = DATABASE_POOL_SIZE, max_overflow: int = DATABASE_MAX_OVERFLOW
) -> AsyncEngine:
    """The engine for ``url``; ``pool_size`` and ``max_overflow`` size PostgreSQL's pool."""
    if url.startswith("sqlite"):
        path = make_url(url).database or ":memory:"
        engine = create_async_engine(
            url, async_creator=inline_connector(path, busy_timeout_seconds=30)
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow)
    _drop_closed_connections(engine)
    return engine


def _drop_closed_connections(engine: AsyncEngine) -> None:
    """Replace a pooled connection the server has closed (a restart, an idle timeout) at
    checkout. asyncpg notices the close when it happens, so asking costs no round trip;
    SQLAlchemy's ``pool_pre_ping`` spent three on every checkout (BEGIN, a ping, ROLLBACK),
    a fifth of a post's statements (bench/README.md)."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi: Any, _record: Any, proxy: Any) -> None:
        if proxy.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # a worker thread checkpoints instead
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = "IMMEDIATE" if connection.get_execution_options().get("writer") else "DEFERRED"
        # Straight to the driver, on this thread as every call is (sqlite_inline): through
        # exec_driver_sql a BEGIN cost as much CPU as a page's query (bench.http_api).
        driver = connection.connection.driver_connection
        if isinstance(driver, InlineConnection):
            driver.run_now(f"BEGIN {mode}")
        else:
            connection.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class Database:
    """The engine plus session factories for reading and for writing."""

    engine: AsyncEngine
    readers: async_sessionmaker[AsyncSession] = field(init=False)
    writers: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.readers = async_sessionmaker(self.engine, expire_on_commit=False)
        writer_engine = self.engine.execution_options(writer=True)
        self.writers = async_sessionmaker(writer_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> str | None:
        """The database file, when it is a SQLite file."""
        database = self.engine.url.database
        return database if self.dialect == "sqlite" and database not in (None, ":memory:") else None

    async def dispose(self) -> None:
        await self.engine.dispose()


class BeforeCommit(Protocol):
    """Work a unit collects while it runs and writes just before it commits."""

    async def __call__(self, session: AsyncSession) -> None: ...


BeforeCommitT = TypeVar("BeforeCommitT", bound=BeforeCommit)


@dataclass
class Unit:
    """One transaction and the events it will publish once it has committed."""

    session: AsyncSession
    events: list[Event] = field(default_factory=list)
    _before_commit: dict[object, BeforeCommit] = field(default_factory=dict)
    _after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def before_commit(self, kind: Callable[[], BeforeCommitT]) -> BeforeCommitT:
        """This unit's one instance of ``kind`` (made on first use), awaited with the
        session just before the commit, in the order the kinds were first used.

        For writes whose order must match commit order (ids from a sequence can commit out
        of order on PostgreSQL): the instance can take a lock held until the commit.
        """
        if kind not in self._before_commit:
            self._before_commit[kind] = kind()
        return self._before_commit[kind]  # type: ignore[return-value]

    async def run_before_commit(self) -> None:
        for work in list(self._before_commit.values()):
            await work(self.session)

    def after_commit(self, work: Callable[[], Awaitable[None]]) -> None:
        """Await ``work`` once the unit has committed, before its events are published
        (``Services.transaction``): e.g. answer the requests whose writes it stored."""
        self._after_commit.append(work)

    async def run_after_commit(self) -> None:
        for work in self._after_commit:
            await work()


@asynccontextmanager
async def unit_of_work(
    database: Database, *, write: bool, connection: AsyncConnection | None = None
) -> AsyncIterator[Unit]:
    """Yield a Unit; commit when the block succeeds, roll back when it raises.

    With ``connection``, the unit runs in that connection's transaction (begun or not)
    and commits it. Events queued on the unit are returned to the caller via
    ``unit.events`` and must be published only after this context has exited cleanly.
    """
    factory = database.writers if write else database.readers
    if connection is not None:
        factory = partial(factory, bind=connection, join_transaction_mode="control_fully")
    async with factory() as session:
        unit = Unit(session)
        try:
            yield unit
            await unit.run_before_commit()
            await session.commit()
        except BaseException:
            await session.rollback()
            unit.events.clear()
            raise
