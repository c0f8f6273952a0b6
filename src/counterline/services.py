"""Everything a running Counterline process holds, created once per app."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from counterline.accounts.cache import DirectoryCache, IdentityCache
from counterline.accounts.events import AccountChanged, SessionEnded
from counterline.config import Settings
from counterline.db import Database, Unit, create_engine, unit_of_work, utcnow
from counterline.errors import TooManyRequests
from counterline.i18n import N_
from counterline.messages.actions import posted_event
from counterline.messages.queries import (
    hold_posting_order,
    list_after_anywhere,
    release_posting_order,
)
from counterline.messages.writer import PostWriter
from counterline.ops.metrics import Metrics
from counterline.presence.events import PresenceChanged
from counterline.presence.queries import set_last_seen
from counterline.presence.registry import LocalRegistry, PresenceRegistry, RedisRegistry
from counterline.presence.tracker import BATCH_INTERVAL_SECONDS, PresenceTracker
from counterline.realtime.broker import Broker, make_broker
from counterline.realtime.events import Envelope, Event
from counterline.realtime.hub import Hub
from counterline.sqlite_inline import WalCheckpointer
from counterline.streams.follower import AccessFollower
from counterline.tasks import stop_task

SWEEP_INTERVAL_SECONDS = 5.0
SOCKETS_PER_BATCH_SECOND = 10_000


@dataclass
class Services:
    settings: Settings
    database: Database
    hub: Hub = field(default_factory=Hub)
    metrics: Metrics = field(default_factory=Metrics)
    identities: IdentityCache = field(default_factory=IdentityCache)
    directory: DirectoryCache = field(default_factory=DirectoryCache)
    broker: Broker = field(init=False)
    presence: PresenceTracker = field(init=False)
    writer: PostWriter = field(init=False)
    access: AccessFollower = field(init=False)
    _sweeper: asyncio.Task[None] | None = None
    _checkpointer: asyncio.Task[None] | None = None
    _follower: asyncio.Task[None] | None = None
    _writes_waiting: int = 0
    _posting: asyncio.Lock = field(default_factory=asyncio.Lock)
    _sqlite_writer: contextlib.AbstractAsyncContextManager[object] = field(init=False)

    def __post_init__(self) -> None:
        self._sqlite_writer = (
            asyncio.Lock() if self.settings.is_sqlite else contextlib.nullcontext()
        )
        self.broker = make_broker(self.hub, self.settings.redis_url, self._messages_since)
        registry: PresenceRegistry = (
            RedisRegistry(
                self.settings.redis_url,
                on_orphaned=self._announce_offline,
                beat_seconds=self.settings.node_heartbeat_seconds,
                dead_after_seconds=self.settings.node_dead_after_seconds,
            )
            if self.settings.redis_url
            else LocalRegistry()
        )
        self.writer = PostWriter(self.posting, on_group=self.metrics.posts_per_commit.observe)
        self.access = AccessFollower(
            self.hub,
            self.reading,
            self.transaction,
            on_changed=self._account_changed,
            poll_seconds=self.settings.access_poll_seconds,
        )
        self.hub.on_presence = registry.observe
        self.hub.on_account_changed = self._account_changed
        self.presence = PresenceTracker(
            self._node_presence_changed,
            grace_seconds=self.settings.presence_grace_seconds,
            registry=registry,
            pace=self._presence_pace,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings, database=Database(create_engine(settings.effective_database_url))
        )

    async def start(self) -> None:
        await self.presence.registry.start()
        await self.broker.start()
        self.writer.start()
        await self.access.start_at_end()
        self._follower = asyncio.create_task(self.access.run())
        self._sweeper = asyncio.create_task(self._sweep_idle_connections())
        if self.database.sqlite_path is not None:
            checkpointer = WalCheckpointer(self.database.sqlite_path)
            self._checkpointer = asyncio.create_task(checkpointer.run())

    async def stop(self) -> None:
        await self.writer.stop()
        for task in (self._sweeper, self._checkpointer, self._follower):
            await stop_task(task)
        for connection in self.hub.connections():
            connection.close(1001)
        await self.presence.stop()
        await self.presence.registry.stop()
        await self.broker.stop()
        await self.database.dispose()

    @asynccontextmanager
    async def transaction(self, connection: AsyncConnection | None = None) -> AsyncIterator[Unit]:
        """A write transaction (on ``connection``, if given); its events are published
        after it commits.

        On SQLite, writers of this process queue on an asyncio lock rather than in
        SQLite's busy handler, which sleeps instead of waking the next writer.
        """
        started = time.perf_counter()
        async with (
            self._sqlite_writer,
            unit_of_work(self.database, write=True, connection=connection) as unit,
        ):
            yield unit
        self.metrics.db_write.observe(time.perf_counter() - started)
        await self.publish(unit.events)

    @asynccontextmanager
    async def posting(self) -> AsyncIterator[Unit]:
        """A write transaction that posts a group of messages (``self.writer``). One group
        at a time in this process, from before the insert until its events are published:
        a commit can return after a later one has (SQLite checkpoints, PostgreSQL
        replies), and message.posted must leave in id order, or a client resuming from the
        last id it saw would miss one. On PostgreSQL the order holds across nodes too (see
        docs/realtime.md)."""
        async with self._posting:
            if self.database.dialect != "postgresql":
                async with self.transaction() as unit:
                    yield unit
                return
            # One connection holds the order and runs the transaction: a pool checkout
            # and a BEGIN fewer per group than a connection for each.
            async with self.database.engine.connect() as connection:
                await hold_posting_order(connection)
                try:
                    async with self.transaction(connection) as unit:
                        yield unit
                finally:
                    await release_posting_order(connection)

    @asynccontextmanager
    async def admit_write(self) -> AsyncIterator[None]:
        """Shed load explicitly: past the queue limit a write is refused (429), not delayed
        until it times out. The client retries with the same client id."""
        if self._writes_waiting >= self.settings.max_queued_writes:
            raise TooManyRequests(N_("The server is busy. Please try again."), retry_after=1)
        self._writes_waiting += 1
        try:
            yield
        finally:
            self._writes_waiting -= 1

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Unit]:
        started = time.perf_counter()
        async with unit_of_work(self.database, write=False) as unit:
            yield unit
        self.metrics.db_read.observe(time.perf_counter() - started)

    async def publish(self, events: Iterable[Event]) -> None:
        events = list(events)
        for event in events:
            # Here at once; other nodes (and this one again) when the event reaches them.
            if isinstance(event, AccountChanged | SessionEnded):
                self._account_changed(event.user_id)
        envelopes = [event.envelope() for event in events]
        if envelopes:
            self.metrics.events_published += len(envelopes)
            await self.broker.publish(envelopes)

    async def _messages_since(self, after: int) -> list[Envelope]:
        async with self.reading() as unit:
            rows = await list_after_anywhere(unit.session, after, limit=500)
        return [posted_event(message).envelope() for message in rows]

    def _account_changed(self, user_id: int) -> None:
        self.identities.forget_user(user_id)
        self.directory.forget()

    def _presence_pace(self) -> float:
        """Seconds between presence batches: every batch is a frame to every socket, so
        with many sockets they come less often (1 s at 10,000)."""
        return max(BATCH_INTERVAL_SECONDS, self.hub.connection_count / SOCKETS_PER_BATCH_SECOND)

    async def _node_presence_changed(self, changes: list[tuple[int, bool]]) -> None:
        registry = self.presence.registry
        everywhere = []
        for user_id, online in changes:
            if await (registry.arrive(user_id) if online else registry.leave(user_id)):
                everywhere.append((user_id, online))
        await self._record_presence(everywhere)

    async def _announce_offline(self, user_ids: list[int]) -> None:
        await self._record_presence([(user_id, False) for user_id in user_ids])

    async def _record_presence(self, changes: list[tuple[int, bool]]) -> None:
        """Remember when the users were last seen and tell everyone, in one event."""
        if not changes:
            return
        now = utcnow()
        async with self.transaction() as unit:
            await set_last_seen(unit.session, {user_id for user_id, _ in changes}, now)
            unit.emit(PresenceChanged(changes=tuple(changes), last_seen_at=now))

    async def _sweep_idle_connections(self) -> None:
        timeout = self.settings.heartbeat_timeout_seconds
        while True:
            await asyncio.sleep(min(SWEEP_INTERVAL_SECONDS, timeout / 3))
            self.hub.close_idle(time.monotonic() - timeout)
            self.hub.close_expired(utcnow())
