"""From this node's arrivals and departures to everyone's view of who is online."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from counterline.db import Unit, utcnow
from counterline.presence.events import PresenceChanged
from counterline.presence.queries import set_last_seen
from counterline.presence.registry import PresenceRegistry
from counterline.presence.tracker import BATCH_INTERVAL_SECONDS

SOCKETS_PER_BATCH_SECOND = 10_000


def batch_pace(open_sockets: int) -> float:
    """Seconds between presence batches: every batch is a frame to every socket, so with
    many sockets they come less often (1 s at 10,000)."""
    return max(BATCH_INTERVAL_SECONDS, open_sockets / SOCKETS_PER_BATCH_SECOND)


class PresenceRecorder:
    """Settles this node's changes against every node's (the registry), remembers when people
    were last seen and tells everyone, one ``PresenceChanged`` per batch."""

    def __init__(
        self,
        registry: PresenceRegistry,
        transaction: Callable[[], AbstractAsyncContextManager[Unit]],
    ) -> None:
        self.registry = registry
        self._transaction = transaction

    async def node_changed(self, changes: list[tuple[int, bool]]) -> None:
        """Users arrived on or left this node: announce those who did so everywhere."""
        everywhere = []
        for user_id, online in changes:
            registry = self.registry
            if await (registry.arrive(user_id) if online else registry.leave(user_id)):
                everywhere.append((user_id, online))
        await self.record(everywhere)

    async def announce_offline(self, user_ids: list[int]) -> None:
        """Users of a node that died without saying goodbye."""
        await self.record([(user_id, False) for user_id in user_ids])

    async def record(self, changes: list[tuple[int, bool]]) -> None:
        if not changes:
            return
        now = utcnow()
        async with self._transaction() as unit:
            await set_last_seen(unit.session, {user_id for user_id, _ in changes}, now)
            unit.emit(PresenceChanged(changes=tuple(changes), last_seen_at=now))
