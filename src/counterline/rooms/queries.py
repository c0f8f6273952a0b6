from __future__ import annotations

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.rooms.models import Membership, Room, RoomKind, Visibility


async def find_room(db: AsyncSession, room_id: int) -> Room | None:
    return await db.get(Room, room_id)


async def find_room_of_member(db: AsyncSession, room_id: int, user_id: int) -> Room | None:
    return await db.scalar(
        select(Room)
        .join(Membership, Membership.room_id == Room.id)
        .where(Room.id == room_id, Membership.user_id == user_id)
    )


async def find_company_room(db: AsyncSession) -> Room | None:
    return await db.scalar(select(Room).where(Room.kind == RoomKind.company).order_by(Room.id))


async def find_branch_room(db: AsyncSession, branch_id: int) -> Room | None:
    return await db.scalar(select(Room).where(Room.branch_id == branch_id))


_IS_MEMBER = select(
    exists().where(
        Membership.room_id == bindparam("room_id"), Membership.user_id == bindparam("user_id")
    )
)


async def is_member(db: AsyncSession, room_id: int, user_id: int) -> bool:
    """Asked before every page of history: a statement built once, run as Core."""
    connection = await db.connection()
    return bool(await connection.scalar(_IS_MEMBER, {"room_id": room_id, "user_id": user_id}))


async def list_rooms_of(db: AsyncSession, user_id: int) -> list[Room]:
    """The rooms a user is a member of: company first, then branch rooms, then topics."""
    kind_order = {RoomKind.company: 0, RoomKind.branch: 1, RoomKind.topic: 2}
    rooms = await db.scalars(
        select(Room)
        .join(Membership, Membership.room_id == Room.id)
        .where(Membership.user_id == user_id)
    )
    return sorted(rooms, key=lambda room: (kind_order[room.kind], room.name, room.id))


async def list_joinable_rooms(db: AsyncSession, user_id: int) -> list[Room]:
    """Public topic rooms the user has not joined yet."""
    joined = select(Membership.room_id).where(Membership.user_id == user_id)
    rooms = await db.scalars(
        select(Room)
        .where(
            Room.kind == RoomKind.topic,
            Room.visibility == Visibility.public,
            Room.id.not_in(joined),
        )
        .order_by(Room.name)
    )
    return list(rooms)


async def list_room_ids_of(db: AsyncSession, user_id: int) -> list[int]:
    rows = await db.scalars(select(Membership.room_id).where(Membership.user_id == user_id))
    return list(rows)


async def remove_membership(db: AsyncSession, room_id: int, user_id: int) -> None:
    await db.execute(
        delete(Membership).where(Membership.room_id == room_id, Membership.user_id == user_id)
    )
