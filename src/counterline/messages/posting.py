"""The order in which groups of posts are stored and announced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

from counterline.db import Database, Unit
from counterline.messages.queries import hold_posting_order, release_posting_order

OpenTransaction = Callable[[AsyncConnection | None], AbstractAsyncContextManager[Unit]]


class PostingOrder:
    """Opens the write transaction of a group of posts (``PostWriter``) and holds the order
    from before the insert until its events are published: a commit can return after a
    later one has (SQLite checkpoints, PostgreSQL replies), and message.posted must leave in
    id order, or a client resuming from the last id it saw would miss one. One group at a
    time in this process; on PostgreSQL across nodes too (see docs/realtime.md)."""

    def __init__(self, database: Database, transaction: OpenTransaction) -> None:
        self._database = database
        self._transaction = transaction
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def group(self) -> AsyncIterator[Unit]:
        async with self._lock:
            if self._database.dialect != "postgresql":
                async with self._transaction(None) as unit:
                    yield unit
                return
            # One connection holds the order and runs the transaction: a pool checkout
            # and a BEGIN fewer per group than a connection for each.
            async with self._database.engine.connect() as connection:
                await hold_posting_order(connection)
                try:
                    async with self._transaction(connection) as unit:
                        yield unit
                finally:
                    await release_posting_order(connection)
