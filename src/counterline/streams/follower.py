"""Every node follows the access-change feed and re-checks the open sockets it holds.

Whatever changes what a user may read (a membership, a role, an account's activity, a
session or an API token) writes an ``AccessChange`` row in the same transaction, on any
node or in the CLI. Each node polls the feed about once a second; for every user who
changed and has sockets here, it compares each socket with the database: rooms no
longer allowed are unsubscribed (the tab gets ``room.left``), new rooms subscribed
(``room.joined``), the staff flag follows the role, and sockets of an ended session, a
revoked token or a deactivated account are closed as logged out. Live events carry the
same changes faster where they reach (Redis, or the same process); the feed is what
makes them certain. See docs/realtime.md. Rows a day old are deleted by a job (tasks.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from counterline.db import Unit
from counterline.realtime.hub import CLOSE_SESSION_ENDED, Connection, Frame, Hub
from counterline.rooms.conversations import rooms_out
from counterline.rooms.events import MemberAdded, MemberRemoved, room_id_of_stream, room_stream
from counterline.streams import queries
from counterline.streams.queries import Access

log = logging.getLogger(__name__)
GAP_SECONDS = 60.0
MAX_GAPS = 1_000

UnitOf = Callable[[], AbstractAsyncContextManager[Unit]]


@dataclass
class FeedCursor:
    """Where a node is in the feed. On PostgreSQL a change can commit after one with a
    larger id: ids skipped over are remembered for a minute and asked for again."""

    after: int = 0
    gaps: dict[int, float] = field(default_factory=dict)

    def take(self, ids: Iterable[int], now: float) -> list[int]:
        """The ids not taken before, in order; the ids jumped over become gaps."""
        fresh = []
        for change_id in sorted(set(ids)):
            if self.gaps.pop(change_id, None) is not None:
                fresh.append(change_id)
            elif change_id > self.after:
                first_gap = max(self.after + 1, change_id - MAX_GAPS)
                self.gaps.update(dict.fromkeys(range(first_gap, change_id), now))
                self.after = change_id
                fresh.append(change_id)
        self.gaps = {gap: seen for gap, seen in self.gaps.items() if now - seen < GAP_SECONDS}
        return fresh


class AccessFollower:
    def __init__(
        self,
        hub: Hub,
        reading: UnitOf,
        on_changed: Callable[[int], None],
        poll_seconds: float,
    ) -> None:
        self.hub = hub
        self._reading = reading
        self._on_changed = on_changed
        self._poll_seconds = poll_seconds
        self.cursor = FeedCursor()

    async def start_at_end(self) -> None:
        async with self._reading() as unit:
            self.cursor.after = await queries.latest_change_id(unit.session)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await self.follow()
            except Exception:
                log.exception("following the access-change feed failed; retrying")

    async def follow(self) -> set[int]:
        """Take the new changes and re-check their users' sockets; returns those users."""
        async with self._reading() as unit:
            changes = await queries.list_changes(
                unit.session, self.cursor.after, list(self.cursor.gaps)
            )
        fresh = set(self.cursor.take((change_id for change_id, _ in changes), time.monotonic()))
        users = {user_id for change_id, user_id in changes if change_id in fresh}
        for user_id in users:
            self._on_changed(user_id)
        await self.recheck(users)
        return users

    async def recheck(self, user_ids: Collection[int]) -> None:
        here = [user_id for user_id in user_ids if self.hub.connections_of(user_id)]
        if not here:
            return
        async with self._reading() as unit:
            access = await queries.find_access(unit.session, here)
            joined_ids = {
                room_id
                for user_id in here
                for room_id in _rooms_to_join(self.hub.connections_of(user_id), access.get(user_id))
            }
            found = await queries.find_rooms(unit.session, joined_ids)
            joined = {  # conversations with their members (shared by every user here)
                room.id: room.model_dump(mode="json")
                for room in await rooms_out(unit, found, viewer_id=None)
            }
        for user_id in here:
            for connection in self.hub.connections_of(user_id):
                _reconcile(self.hub, connection, access.get(user_id), joined)


def _rooms_to_join(connections: Iterable[Connection], access: Access | None) -> set[int]:
    if access is None:
        return set()
    return {
        room_id
        for connection in connections
        for room_id in access.room_ids - _room_ids_of(connection)
    }


def _room_ids_of(connection: Connection) -> set[int]:
    return {
        room_id for room_id in map(room_id_of_stream, connection.streams) if room_id is not None
    }


def _allowed(connection: Connection, access: Access | None) -> bool:
    if access is None or not access.active:
        return False
    if connection.session_id is not None:
        return connection.session_id in access.session_ids
    if connection.token_id is not None:
        return connection.token_id in access.token_ids
    return True


def _reconcile(
    hub: Hub, connection: Connection, access: Access | None, rooms: dict[int, dict[str, object]]
) -> None:
    """Make one socket agree with what its user may read now."""
    if not _allowed(connection, access):
        connection.close(CLOSE_SESSION_ENDED)
        return
    assert access is not None
    connection.staff = access.staff
    current = _room_ids_of(connection)
    for room_id in current - access.room_ids:
        hub.unsubscribe(connection, room_stream(room_id))
        left = MemberRemoved(user_id=connection.user_id, room_id=room_id)
        connection.push(Frame(left.envelope().frame))
    for room_id in access.room_ids - current:
        if room_id in rooms:
            hub.subscribe(connection, room_stream(room_id))
            joined = MemberAdded(user_id=connection.user_id, room=rooms[room_id])
            connection.push(Frame(joined.envelope().frame))
