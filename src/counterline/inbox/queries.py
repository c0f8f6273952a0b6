"""Every SQL statement of the inbox and notification settings, built once.

An inbox page is a range of ``message_addressees``' primary key (user_id, message_id),
newest first, joined to the membership (nobody sees a message of a room they are no longer
in, and the read position says what is unread), the message (deleted ones are left out)
and its room.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.messages.models import Message, MessageAddressee
from counterline.messages.queries import STORED_FIELDS, STORED_SELECT, StoredMessage
from counterline.rooms.models import Membership, Room

NEWEST = 2**62  # "before" when the caller gave none: larger than any message id

_ADDRESSED = (MessageAddressee.user_id == bindparam("user_id"),)
_UNREAD = MessageAddressee.message_id > Membership.last_read_id
_PAGE_ALL = (
    STORED_SELECT.add_columns(
        MessageAddressee.reasons,
        _UNREAD.label("unread"),
        Room.name,
        Room.kind,
        Room.conversation_key,
    )
    .join(MessageAddressee, MessageAddressee.message_id == Message.id)
    .join(
        Membership,
        (Membership.room_id == MessageAddressee.room_id)
        & (Membership.user_id == MessageAddressee.user_id),
    )
    .join(Room, Room.id == MessageAddressee.room_id)
    .where(
        *_ADDRESSED,
        MessageAddressee.message_id < bindparam("before"),
        Message.deleted_at.is_(None),
    )
    .order_by(MessageAddressee.message_id.desc())
    .limit(bindparam("limit"))
)
_PAGE_UNREAD = _PAGE_ALL.where(_UNREAD)
_FIRST_UNREAD = (
    select(func.min(Membership.last_read_id))
    .where(Membership.user_id == bindparam("user_id"))
    .scalar_subquery()
)
COUNT_CAP = 100  # the badge says "99+" from here on: counting stops
_UNREAD_COUNT = select(func.count()).select_from(
    select(MessageAddressee.message_id)
    .join(
        Membership,
        (Membership.room_id == MessageAddressee.room_id)
        & (Membership.user_id == MessageAddressee.user_id),
    )
    .join(Message, Message.id == MessageAddressee.message_id)
    .where(
        *_ADDRESSED,
        MessageAddressee.message_id > _FIRST_UNREAD,
        _UNREAD,
        Message.deleted_at.is_(None),
    )
    .limit(COUNT_CAP)
    .subquery()
)
_FIELDS = len(STORED_FIELDS)


async def inbox_page(
    db: AsyncSession, user_id: int, before: int | None, limit: int, *, unread_only: bool
) -> list[tuple[StoredMessage, int, bool, str, str, bool]]:
    """Up to ``limit`` items, newest first: (message, reason bits, unread, room name, room
    kind, whether the room is a 1:1 conversation)."""
    connection = await db.connection()
    statement = _PAGE_UNREAD if unread_only else _PAGE_ALL
    parameters = {"user_id": user_id, "before": before or NEWEST, "limit": limit}
    items = []
    for row in await connection.execute(statement, parameters):
        reasons, unread, name, kind, conversation_key = row[_FIELDS:]
        message = StoredMessage(*row[:_FIELDS])
        items.append(
            (message, reasons, bool(unread), name, str(kind), conversation_key is not None)
        )
    return items


async def unread_count(db: AsyncSession, user_id: int) -> int:
    """Unread items, at most COUNT_CAP: however many there are, a few index lookups."""
    connection = await db.connection()
    return int(await connection.scalar(_UNREAD_COUNT, {"user_id": user_id}))


_MUTE = (
    update(Membership)
    .where(
        Membership.room_id == bindparam("b_room_id"),
        Membership.user_id == bindparam("b_user_id"),
    )
    .values(muted=bindparam("b_muted"))
    .returning(Membership.id)
)


async def set_muted(db: AsyncSession, user_id: int, room_id: int, muted: bool) -> bool:
    """Whether the user is a member (and the setting was stored)."""
    connection = await db.connection()
    parameters = {"b_room_id": room_id, "b_user_id": user_id, "b_muted": muted}
    return (await connection.execute(_MUTE, parameters)).first() is not None
