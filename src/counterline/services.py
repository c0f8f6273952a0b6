"""Everything a running Counterline process holds, created once per app."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from counterline.config import Settings
from counterline.db import Database, Unit, create_engine, unit_of_work, utcnow
from counterline.presence.events import PresenceChanged
from counterline.presence.queries import set_last_seen
from counterline.presence.tracker import PresenceTracker
from counterline.realtime.broker import Broker, make_broker
from counterline.realtime.events import Event
from counterline.realtime.hub import Hub

SWEEP_INTERVAL_SECONDS = 5.0


@dataclass
class Services:
    settings: Settings
    database: Database
    hub: Hub = field(default_factory=Hub)
    broker: Broker = field(init=False)
    presence: PresenceTracker = field(init=False)
    _sweeper: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.broker = make_broker(self.hub, self.settings.redis_url)
        self.presence = PresenceTracker(
            self._record_presence, grace_seconds=self.settings.presence_grace_seconds
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings, database=Database(create_engine(settings.effective_database_url))
        )

    async def start(self) -> None:
        await self.broker.start()
        self._sweeper = asyncio.create_task(self._sweep_idle_connections())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for connection in self.hub.connections():
            connection.close(1001)
        await self.presence.stop()
        await self.broker.stop()
        await self.database.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Unit]:
        """A write transaction; its events are published after it commits."""
        async with unit_of_work(self.database, write=True) as unit:
            yield unit
        await self.publish(unit.events)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Unit]:
        async with unit_of_work(self.database, write=False) as unit:
            yield unit

    async def publish(self, events: Iterable[Event]) -> None:
        envelopes = [event.envelope() for event in events]
        if envelopes:
            await self.broker.publish(envelopes)

    async def _record_presence(self, user_id: int, online: bool) -> None:
        now = utcnow()
        async with self.transaction() as unit:
            await set_last_seen(unit.session, user_id, now)
            unit.emit(PresenceChanged(user_id=user_id, online=online, last_seen_at=now))

    async def _sweep_idle_connections(self) -> None:
        timeout = self.settings.heartbeat_timeout_seconds
        while True:
            await asyncio.sleep(min(SWEEP_INTERVAL_SECONDS, timeout / 3))
            self.hub.close_idle(time.monotonic() - timeout)
