"""Quick reads: the hottest reads run their usual statements on a synchronous connection.

A page of history and the room list are read again and again by every tab. On SQLite they
run the same Core statements as everywhere else, but through SQLAlchemy's synchronous
engine over the same database file, called on the event loop's thread: no greenlet switch
and no aiosqlite wrapper per statement (a membership check costs 0.04 ms of CPU this way,
0.15 ms through the async session). As for every SQLite call here (``sqlite_inline``), a
read in WAL mode answers from the page cache and never waits for a writer.

The functions that read take an ``AsyncSession`` and use only ``await session.connection()``
and that connection's ``execute`` and ``scalar``: ``QuickSession`` offers exactly that, so
the same functions run on either, and what they answer cannot differ. A quick read is one
deferred transaction (``BEGIN`` … ``COMMIT``), so its statements see one snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Executable, Result, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool

from counterline.db import Unit


class QuickConnection:
    """What the hot reads ask of an ``AsyncConnection``, answered synchronously."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result[Any]:
        return self._connection.execute(statement, parameters)

    async def scalar(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        return self._connection.scalar(statement, parameters)


class QuickSession:
    """What the hot reads ask of an ``AsyncSession``: its connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = QuickConnection(connection)

    async def connection(self) -> QuickConnection:
        return self._connection


class QuickReads:
    """Read-only connections to a SQLite file for quick reads, pooled by the engine."""

    def __init__(self, path: str, *, busy_timeout_seconds: float = 30) -> None:
        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(
                path,
                timeout=busy_timeout_seconds,
                isolation_level=None,  # BEGIN is ours (below)
                check_same_thread=False,
            )
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job
            return connection

        # Overflow without limit: a checkout never blocks the event loop's thread (a quick
        # read doesn't yield, so one connection is in use at a time in practice).
        self.engine: Engine = create_engine(
            "sqlite://", creator=connect, poolclass=QueuePool, pool_size=2, max_overflow=-1
        )

        @event.listens_for(self.engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.connection.driver_connection.execute("BEGIN DEFERRED")  # type: ignore[union-attr]

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """A read-only unit whose statements see one snapshot of the database."""
        with self.engine.connect() as connection, connection.begin():
            yield Unit(QuickSession(connection))  # type: ignore[arg-type]

    def dispose(self) -> None:
        self.engine.dispose()
