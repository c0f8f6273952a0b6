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
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite


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
