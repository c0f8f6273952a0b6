from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    String,
    bindparam,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from counterline.accounts.models import User
from counterline.branches.models import Branch
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
    # A new member has read what came before (rooms.reading): joining a room with a year
    # of history is not a year of unread messages.
    return (
        insert(members)
        .values(
            room_id=bindparam("b_room_id"),
            user_id=bindparam("b_user_id"),
            read_seq=select(Room.last_seq)
            .where(Room.id == bindparam("b_room_id"))
            .scalar_subquery(),
        )
        .on_conflict_do_nothing(index_elements=[members.c.room_id, members.c.user_id])
        .returning(members.c.id)
    )


async def insert_membership(db: AsyncSession, room_id: int, user_id: int) -> bool:
    """Make the user a member of the room unless they are one; whether they became one.
    Two joins at once both succeed: the later insert waits for the earlier one's commit
    (PostgreSQL) or its turn (SQLite), then does nothing."""
    statement = _insert_membership(db.bind.dialect.name)
    inserted = await db.scalar(statement, {"b_room_id": room_id, "b_user_id": user_id})
    return inserted is not None


_KIND_ORDER = {
    RoomKind.company: 0,
    RoomKind.branch: 1,
    RoomKind.topic: 2,
    RoomKind.notice: 3,
    RoomKind.conversation: 4,
}
# The room lists read kind and visibility as their text (equal to the StrEnum members):
# turning each into an enum member and serialising it again cost more than the query for a
# clerk in 200 rooms (bench.unread).
_KIND_TEXT = type_coerce(Room.kind, String).label("kind")
_VISIBILITY_TEXT = type_coerce(Room.visibility, String).label("visibility")
_RANK = {kind.value: rank for kind, rank in _KIND_ORDER.items()}


# Plain rows, not ORM objects, and built once: a clerk may be in hundreds of rooms and
# conversations, and her room list is asked for on every page load (bench.unread). Each row
# also carries her read position: ``unread`` (rooms.last_seq - read_seq) and ``last_read_id``.
def _her_rooms(*columns: Any) -> Select[Any]:
    """``columns`` of the rooms a user (``user_id``) is a member of and of her memberships.
    Archived rooms leave her lists; their members still read them (rooms/{id})."""
    return (
        select(*columns)
        .join(Membership, Membership.room_id == Room.id)
        .where(Membership.user_id == bindparam("user_id"), Room.archived_at.is_(None))
    )


_UNREAD = (Room.last_seq - Membership.read_seq).label("unread")
_ROOMS_OF = _her_rooms(
    Room.id,
    _KIND_TEXT,
    Room.name,
    _VISIBILITY_TEXT,
    Room.branch_id,
    Room.conversation_key,
    _UNREAD,
    Membership.last_read_id,
    Membership.muted,
)


async def list_rooms_of(db: AsyncSession, user_id: int) -> list[Row[Any]]:
    """The rooms a user is a member of, archived ones left out: company first, then branch
    rooms, then topics, then conversations. Rows with a Room's id, kind, name, visibility,
    branch_id and conversation_key, and the user's ``unread``, ``last_read_id`` and
    ``muted`` there."""
    connection = await db.connection()
    rooms = (await connection.execute(_ROOMS_OF, {"user_id": user_id})).all()
    return sorted(rooms, key=_list_order)


def _list_order(room: Row[Any]) -> tuple[int, str, int]:
    room_id, kind, name = room[:3]  # by position: a clerk may be in hundreds of rooms
    return room_order(room_id, kind, name)


def room_order(room_id: int, kind: str, name: str) -> tuple[int, str, int]:
    """Where a room stands in a room list: company, branch rooms, topics, conversations,
    each by name."""
    return _RANK[kind], name, room_id


# A room list's rows (rooms/cards.py): only numbers, each room's revision beside the
# viewer's read position; what the rooms show is read again only when their revision moves.
_ROOM_READINGS = _her_rooms(
    Room.id, Room.revision, _UNREAD, Membership.last_read_id, Membership.muted
)


async def list_room_readings(db: AsyncSession, user_id: int) -> list[Row[Any]]:
    """The rooms a user is a member of, archived ones left out, in no order: rows of
    (id, revision, unread, last_read_id, muted)."""
    connection = await db.connection()
    return list((await connection.execute(_ROOM_READINGS, {"user_id": user_id})).all())


_ROOM_CARDS = select(
    Room.id,
    Room.revision,
    _KIND_TEXT,
    Room.name,
    _VISIBILITY_TEXT,
    Room.branch_id,
    Room.conversation_key,
).where(Room.id.in_(bindparam("room_ids", expanding=True)))


async def list_room_cards(db: AsyncSession, room_ids: Collection[int]) -> list[Row[Any]]:
    """Rows of (id, revision, kind, name, visibility, branch_id, conversation_key)."""
    connection = await db.connection()
    return list((await connection.execute(_ROOM_CARDS, {"room_ids": list(room_ids)})).all())


# Read positions (rooms.reading): unread = rooms.last_seq - read_seq, no message counted.
_READ_POSITIONS = (
    select(
        Membership.room_id,
        (Room.last_seq - Membership.read_seq).label("unread"),
        Membership.last_read_id,
    )
    .join(Room, Room.id == Membership.room_id)
    .where(Membership.user_id == bindparam("user_id"))
)


async def read_positions_of(db: AsyncSession, user_id: int) -> dict[int, tuple[int, int]]:
    """(unread, last read id) of every room the user is a member of, by room id: one
    indexed query, whatever the number of messages."""
    connection = await db.connection()
    result = await connection.execute(_READ_POSITIONS, {"user_id": user_id})
    return {room_id: (unread, last_read_id) for room_id, unread, last_read_id in result}


# A group of read marks (messages.reading.mark_read): the positions it may move, locked on
# PostgreSQL (only the memberships, in the update's order) until the group commits. By
# user: SQLite scans the whole table for a (room_id, user_id) IN list, never for this.
_READ_SEQS = (
    select(
        Membership.room_id,
        Membership.user_id,
        Membership.read_seq,
        Room.last_seq,
        Membership.last_read_id,
    )
    .join(Room, Room.id == Membership.room_id)
    .where(Membership.user_id.in_(bindparam("user_ids", expanding=True)))
    .order_by(Membership.room_id, Membership.user_id)
    .with_for_update(of=Membership)
)


async def lock_read_positions(
    db: AsyncSession, pairs: Collection[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, int, int]]:
    """(read seq, the room's last seq, last read id) by (room id, user id), of those
    ``pairs`` that are memberships; nobody else moves them until this transaction ends
    (SQLite's write transaction holds the database, PostgreSQL locks the users' rows)."""
    connection = await db.connection()
    user_ids = sorted({user_id for _, user_id in pairs})
    result = await connection.execute(_READ_SEQS, {"user_ids": user_ids})
    return {
        (room_id, user_id): (read_seq, last_seq, last_read_id)
        for room_id, user_id, read_seq, last_seq, last_read_id in result
        if (room_id, user_id) in pairs
    }


# Asked with every room list and room page: built once, run as Core, plain rows.
_JOINABLE = (
    select(Room.id, _KIND_TEXT, Room.name, _VISIBILITY_TEXT, Room.branch_id)
    .where(
        Room.kind == RoomKind.topic,
        Room.visibility == Visibility.public,
        Room.archived_at.is_(None),
        Room.id.not_in(
            select(Membership.room_id).where(Membership.user_id == bindparam("user_id"))
        ),
    )
    .order_by(Room.name)
)


async def list_joinable_rooms(db: AsyncSession, user_id: int) -> list[Row[Any]]:
    """Public topic rooms the user has not joined yet: rows with a Room's id, kind, name,
    visibility and branch_id."""
    connection = await db.connection()
    return list((await connection.execute(_JOINABLE, {"user_id": user_id})).all())


async def list_room_ids_of(db: AsyncSession, user_id: int) -> list[int]:
    rows = await db.scalars(select(Membership.room_id).where(Membership.user_id == user_id))
    return list(rows)


async def remove_membership(db: AsyncSession, room_id: int, user_id: int) -> None:
    await db.execute(
        delete(Membership).where(Membership.room_id == room_id, Membership.user_id == user_id)
    )


async def find_room_by_name_key(db: AsyncSession, key: str) -> Room | None:
    return await db.scalar(select(Room).where(Room.name_key == key))


# A room's memberships (its unique index alone) less those of deactivated accounts (the few
# in ix_users_inactive): a room of 10,000 counted without reading 10,000 users' rows.
_MEMBERSHIPS = select(func.count()).where(Membership.room_id == bindparam("room_id"))
_INACTIVE_MEMBERS = (
    select(func.count())
    .select_from(User)
    .where(
        User.active == false(),  # as the partial index says it, so that SQLite uses it
        exists().where(Membership.room_id == bindparam("room_id"), Membership.user_id == User.id),
    )
)
_COUNT_MEMBERS = select(_MEMBERSHIPS.scalar_subquery() - _INACTIVE_MEMBERS.scalar_subquery())


async def count_members(db: AsyncSession, room_id: int) -> int:
    """Members with an active account (on every room page: built once, run as Core)."""
    connection = await db.connection()
    return await connection.scalar(_COUNT_MEMBERS, {"room_id": room_id}) or 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_members(
    db: AsyncSession, room_id: int, *, search: str, offset: int, limit: int
) -> tuple[int, Sequence[Row[Any]]]:
    """A page of a room's active members by display name: (how many match, the page).
    ``search`` matches anywhere in the display name or the username (ASCII letters in
    either case)."""
    where = [Membership.room_id == room_id, User.active.is_(True)]
    if search:
        pattern = f"%{_escape_like(search.lower())}%"
        where.append(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                func.lower(User.username).like(pattern, escape="\\"),
            )
        )
    total = await db.scalar(
        select(func.count())
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .where(*where)
    )
    rows = await db.execute(
        select(User.id, User.username, User.display_name, Branch.name.label("branch"))
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .join(Branch, Branch.id == User.branch_id)
        .where(*where)
        .order_by(User.display_name, User.id)
        .offset(offset)
        .limit(limit)
    )
    return total or 0, rows.all()


async def find_active_users(db: AsyncSession, usernames: Collection[str]) -> Sequence[User]:
    return (
        await db.scalars(select(User).where(User.username.in_(usernames), User.active.is_(True)))
    ).all()


_CONVERSATION_MEMBERS = (
    select(Membership.room_id, User.id, User.username, User.display_name)
    .join(User, User.id == Membership.user_id)
    .where(Membership.room_id.in_(bindparam("room_ids", expanding=True)))
    .order_by(Membership.room_id, User.display_name, User.id)
)


async def list_conversation_members(
    db: AsyncSession, room_ids: Collection[int]
) -> dict[int, list[Row[Any]]]:
    """For each conversation, its members (id, username, display_name) by display name."""
    members: dict[int, list[Row[Any]]] = {room_id: [] for room_id in room_ids}
    if not room_ids:
        return members
    connection = await db.connection()
    rows = await connection.execute(_CONVERSATION_MEMBERS, {"room_ids": list(room_ids)})
    for row in rows.all():
        members[row[0]].append(row)
    return members


@cache
def _insert_conversation(dialect: str) -> ReturningInsert[tuple[int]]:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    rooms = Room.__table__
    return (
        insert(rooms)
        .on_conflict_do_nothing(index_elements=[rooms.c.conversation_key])
        .returning(rooms.c.id)
    )


async def insert_conversation(db: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert a conversation row unless one with its ``conversation_key`` exists; the new
    id, or None. As with memberships, the later of two inserts at once waits for the
    earlier one (PostgreSQL) or its turn (SQLite), then does nothing."""
    statement = _insert_conversation(db.bind.dialect.name)
    return await db.scalar(statement, values)


async def find_conversation(db: AsyncSession, key: str) -> Room | None:
    return await db.scalar(select(Room).where(Room.conversation_key == key))


async def list_named_rooms(db: AsyncSession) -> list[Row[Any]]:
    """Every room but conversations, archived ones too (the admin console), with its
    number of members: company first, then branch rooms, then topics, by name."""
    members = (
        select(func.count())
        .where(Membership.room_id == Room.id)
        .correlate(Room)
        .scalar_subquery()
        .label("member_count")
    )
    rows = (await db.execute(select(Room, members).where(Room.kind != RoomKind.conversation))).all()
    return sorted(rows, key=lambda row: (_KIND_ORDER[row[0].kind], row[0].name, row[0].id))


async def list_all_members(db: AsyncSession, room_id: int) -> list[User]:
    """Every member of a room, deactivated ones too, by display name (the admin console)."""
    return list(
        await db.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.room_id == room_id)
            .order_by(User.display_name, User.id)
        )
    )


async def member_ids(db: AsyncSession, room_id: int) -> list[int]:
    return list(await db.scalars(select(Membership.user_id).where(Membership.room_id == room_id)))
