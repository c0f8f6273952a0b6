from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

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


@cache
def _insert_membership(dialect: str) -> ReturningInsert[tuple[int]]:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    members = Membership.__table__
    return (
        insert(members)
        .on_conflict_do_nothing(index_elements=[members.c.room_id, members.c.user_id])
        .returning(members.c.id)
    )


async def insert_membership(db: AsyncSession, room_id: int, user_id: int) -> bool:
    """Make the user a member of the room unless they are one; whether they became one.
    Two joins at once both succeed: the later insert waits for the earlier one's commit
    (PostgreSQL) or its turn (SQLite), then does nothing."""
    statement = _insert_membership(db.bind.dialect.name)
    inserted = await db.scalar(statement, {"room_id": room_id, "user_id": user_id})
    return inserted is not None


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
