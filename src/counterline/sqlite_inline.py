"""An aiosqlite connection that runs each call on the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, commit) to a worker thread and
wakes the loop when it is done. For the small indexed statements Counterline runs,
those two thread hops cost far more than the statement itself (~1 ms of CPU against
~0.05 ms), and a request makes several. SQLite in WAL mode answers such statements
from the page cache without waiting: readers never block, and this process's writers
already queue on an asyncio lock before ``BEGIN IMMEDIATE`` (see ``Services``), so
the only wait left is another process (a CLI command) holding the write lock for a
few milliseconds, bounded by the busy timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)


class _RunNow:
    """Stands in for aiosqlite's queue to its worker thread: runs the call at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as aiosqlite does
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # no worker thread to start

    @property
    def sqlite_connection(self) -> sqlite3.Connection:
        """The driver's own connection, for statements run on it directly (``quick_reads``)."""
        return self._conn

    def run_now(self, sql: str) -> None:
        """Run a statement that answers no rows (``BEGIN``) at once, without a cursor."""
        self._conn.execute(sql)


def inline_connector(path: str, *, busy_timeout_seconds: float) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy's aiosqlite dialect."""

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            path,
            timeout=busy_timeout_seconds,
            isolation_level=None,  # we issue BEGIN ourselves
            check_same_thread=False,
        )

    async def create() -> InlineConnection:
        return await InlineConnection(connect)

    return create


CHECKPOINT_INTERVAL_SECONDS = 1.0


class WalCheckpointer:
    """Copies the write-ahead log back into the database from a worker thread.

    The app's connections run on the event loop's thread with automatic checkpoints off
    (``wal_autocheckpoint=0``): an automatic checkpoint runs inside whichever commit
    crosses the threshold, and would stall every socket of the process while it writes
    and syncs the database file. A PASSIVE checkpoint never waits for readers or writers.
    """

    def __init__(self, path: str, interval_seconds: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        self._path = path
        self._interval = interval_seconds

    def checkpoint(self) -> tuple[int, int]:
        """Checkpoint now; returns (pages in the log, pages copied back)."""
        with contextlib.closing(sqlite3.connect(self._path, timeout=1)) as connection:
            _busy, in_log, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return in_log, copied

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await asyncio.to_thread(self.checkpoint)
            except sqlite3.Error:
                log.warning("WAL checkpoint failed; will retry", exc_info=True)
