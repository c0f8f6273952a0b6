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

from sqlalchemy import bindparam, func, select, update

from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import NotFound
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
_ROOM_AND_SEQ = select(Message.room_id, Message.seq).where(Message.id == bindparam("message_id"))
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


async def mark_read(unit: Unit, user: User, room_id: int, up_to: int) -> ReadPositionOut:
    """Everything in the room up to message ``up_to`` is read. Never moves backwards (an
    older ``up_to`` leaves the position as it is). 404 if the user is not a member of
    the room (conversations included), or ``up_to`` is not a message of this room."""
    session = unit.session
    if await room_queries.read_position(session, room_id, user.id) is None:
        raise NotFound(NOT_A_MEMBER)
    connection = await session.connection()
    found = (await connection.execute(_ROOM_AND_SEQ, {"message_id": up_to})).first()
    if found is None or found.room_id != room_id:
        raise NotFound(NOT_IN_ROOM)
    moved = {"b_room_id": room_id, "b_user_id": user.id, "b_seq": found.seq, "b_id": up_to}
    changed = await message_queries.read_own(session, [moved])
    position = await room_queries.read_position(session, room_id, user.id)
    assert position is not None
    unread, last_read_id = position
    if changed:
        unit.emit(RoomRead(user.id, room_id, last_read_id, unread))
    return ReadPositionOut(room_id=room_id, last_read_id=last_read_id, unread=unread)


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
