"""Read positions: where each member has read up to in each room and conversation.

Each room's messages are numbered as they are posted (``messages.seq``, see
``messages/numbering.py``) and ``rooms.last_seq`` is the newest number, so a member's unread
count is ``rooms.last_seq - room_members.read_seq``: kept by the server, never counted by
scanning messages. A read position only moves forwards; posting moves the author's to her
message. Deleted messages keep their number, so one deleted after it was posted still
counts until it is read past (a count never has to scan for deletions).

Each move is announced on the user's own stream (``rooms.events.RoomRead``, ``room.read``),
so every tab of hers shows the count the server now holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update

from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import NotFound, UserError
from counterline.group_commit import GroupCommit
from counterline.i18n import N_
from counterline.messages import queries as message_queries
from counterline.messages.models import Message
from counterline.rooms import queries as room_queries
from counterline.rooms.actions import NOT_A_MEMBER
from counterline.rooms.events import RoomRead
from counterline.rooms.models import Membership, Room
from counterline.rooms.schemas import ReadPositionOut, UnreadSummary

NOT_IN_ROOM = N_("That message is not in this room.")

# Statements built once, run as Core (docs/architecture.md, Hot paths).
_ROOM_AND_SEQ = select(Message.id, Message.room_id, Message.seq).where(
    Message.id.in_(bindparam("ids", expanding=True))
)
_room_last_seq = (
    select(Room.last_seq).where(Room.id == Membership.room_id).correlate(Membership)
).scalar_subquery()
_room_last_id = (
    select(func.max(Message.id)).where(Message.room_id == Membership.room_id)
).scalar_subquery()
_LOCK_ALL = (
    select(Membership.id)
    .where(Membership.user_id == bindparam("user_id"))
    .order_by(Membership.room_id)
    .with_for_update()
)
_READ_ALL = (
    update(Membership)
    .where(Membership.user_id == bindparam("b_user_id"), Membership.read_seq < _room_last_seq)
    .values(
        read_seq=_room_last_seq,
        last_read_id=func.coalesce(_room_last_id, Membership.last_read_id),
    )
    .returning(Membership.room_id, Membership.last_read_id)
)


@dataclass(frozen=True, slots=True)
class ReadMark:
    """``user_id`` has read ``room_id`` up to message ``up_to``."""

    user_id: int
    room_id: int
    up_to: int


async def mark_read(unit: Unit, marks: Sequence[ReadMark]) -> list[ReadPositionOut | UserError]:
    """Each room read up to its message: a read position never moves backwards (an older
    ``up_to`` leaves it as it is). A mark is answered 404 if its user is not a member of
    the room (conversations included), or ``up_to`` is not a message of this room; it then
    writes nothing. Two queries and one update for any number of marks, so marks in a
    group (``ReadMarker``) cost little beside posting."""
    if not marks:
        return []
    connection = await unit.session.connection()
    ids = sorted({mark.up_to for mark in marks})
    found = {row.id: row for row in await connection.execute(_ROOM_AND_SEQ, {"ids": ids})}
    pairs = {(mark.room_id, mark.user_id) for mark in marks}
    before = await room_queries.lock_read_positions(unit.session, pairs)
    # Locked: the update moves each position exactly as followed here, mark by mark in
    # room order (the lock order posting shares, message_queries.read_own).
    positions = dict(before)
    moves = []
    for mark in sorted(marks, key=lambda mark: (mark.room_id, mark.user_id)):
        if _refusal(mark, found, positions) is not None:
            continue
        key, seq = (mark.room_id, mark.user_id), found[mark.up_to].seq
        read_seq, last_seq, _ = positions[key]
        if seq > read_seq:
            positions[key] = (seq, last_seq, mark.up_to)
            moves.append(
                {"b_room_id": key[0], "b_user_id": key[1], "b_seq": seq, "b_id": mark.up_to}
            )
    await message_queries.read_own(unit.session, moves)
    answers: list[ReadPositionOut | UserError] = []
    for mark in marks:
        refusal = _refusal(mark, found, positions)
        if refusal is not None:
            answers.append(refusal)
            continue
        read_seq, last_seq, last_read_id = positions[mark.room_id, mark.user_id]
        answers.append(
            ReadPositionOut(
                room_id=mark.room_id, last_read_id=last_read_id, unread=last_seq - read_seq
            )
        )
    for (room_id, user_id), (read_seq, last_seq, last_read_id) in positions.items():
        if (read_seq, last_seq, last_read_id) != before[room_id, user_id]:
            unit.emit(RoomRead(user_id, room_id, last_read_id, last_seq - read_seq))
    return answers


def _refusal(
    mark: ReadMark, found: dict[int, Any], positions: dict[tuple[int, int], Any]
) -> NotFound | None:
    """Why the mark is refused (its user is not a member, its message not of the room)."""
    if (mark.room_id, mark.user_id) not in positions:
        return NotFound(NOT_A_MEMBER)
    message = found.get(mark.up_to)
    if message is None or message.room_id != mark.room_id:
        return NotFound(NOT_IN_ROOM)
    return None


class ReadMarker:
    """Read marks in groups (``group_commit``): every mark waiting is stored in one write
    transaction, so a room full of readers marking read doesn't hold posting up
    (bench.ingest's run with readers)."""

    def __init__(
        self, transaction: Callable[[], AbstractAsyncContextManager[Unit]], *, max_group: int
    ) -> None:
        self._transaction = transaction
        self._groups: GroupCommit[ReadMark, ReadPositionOut] = GroupCommit(
            self._store, max_group=max_group
        )

    def start(self) -> None:
        self._groups.start()

    async def stop(self) -> None:
        await self._groups.stop()

    async def mark(self, user: User, room_id: int, up_to: int) -> ReadPositionOut:
        """``mark_read`` for one mark, once its group has committed."""
        return await self._groups.submit(ReadMark(user.id, room_id, up_to))

    async def _store(self, marks: list[ReadMark]) -> list[ReadPositionOut | UserError]:
        async with self._transaction() as unit:
            return await mark_read(unit, marks)


async def mark_all_read(unit: Unit, user: User) -> UnreadSummary:
    """Every room and conversation of the user read up to its newest message."""
    connection = await unit.session.connection()
    if connection.dialect.name == "postgresql":
        # Lock her rows in room order first: a post of hers locks them in that order too.
        await connection.execute(_LOCK_ALL, {"user_id": user.id})
    moved = await connection.execute(_READ_ALL, {"b_user_id": user.id})
    for room_id, last_read_id in moved.all():
        unit.emit(RoomRead(user.id, room_id, last_read_id, 0))
    return await unread_summary(unit, user)


async def unread_summary(unit: Unit, user: User) -> UnreadSummary:
    """The user's rooms with unread messages, and how many in all: one indexed query."""
    positions = await room_queries.read_positions_of(unit.session, user.id)
    rooms = [
        ReadPositionOut(room_id=room_id, last_read_id=last_read_id, unread=unread)
        for room_id, (unread, last_read_id) in sorted(positions.items())
        if unread > 0
    ]
    return UnreadSummary(rooms=rooms, total=sum(room.unread for room in rooms))
