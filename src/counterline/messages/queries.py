from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from counterline.accounts.models import User
from counterline.branches.models import Branch
from counterline.messages.models import Message
from counterline.rooms.models import Membership

MessageRow = tuple[Message, User, Branch]


def _with_author() -> Select[Any]:
    return (
        select(Message, User, Branch)
        .join(User, User.id == Message.author_id)
        .join(Branch, Branch.id == Message.author_branch_id)
    )


COMMIT_ORDER_LOCK = 7411001


async def serialise_writers(db: AsyncSession) -> None:
    """Make message ids commit in increasing order, so "everything after id X" is exact.

    SQLite already has one writer at a time. On PostgreSQL a sequence value can
    commit after a larger one; a transaction-scoped advisory lock, taken just
    before the insert, keeps id order and commit order the same.
    """
    if db.bind.dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COMMIT_ORDER_LOCK})


POSTING_ORDER_LOCK = 7411002


async def hold_posting_order(connection: AsyncConnection) -> None:
    """Across PostgreSQL nodes: one post at a time from insert until its event is published,
    so message.posted events reach Redis in id order. Session-level: it outlives the commit."""
    await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": POSTING_ORDER_LOCK})


async def release_posting_order(connection: AsyncConnection) -> None:
    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": POSTING_ORDER_LOCK})


async def find_author_branch_in_room(
    db: AsyncSession, room_id: int, author_id: int
) -> Branch | None:
    """The author's branch as it is now, if the author is a member of the room."""
    row = (
        await db.execute(
            select(Branch.id, Branch.name)
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .join(Branch, Branch.id == User.branch_id)
            .where(Membership.room_id == room_id, Membership.user_id == author_id)
        )
    ).first()
    return None if row is None else Branch(id=row.id, name=row.name)


async def insert_unless_posted(db: AsyncSession, message: Message) -> int | None:
    """Insert the message and return its id; None when its author already used its
    client id (a retry), in which case nothing is written."""
    values = {
        column.key: getattr(message, column.key)
        for column in Message.__table__.columns
        if column.key != "id"
    }
    dialect = db.bind.dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Message)
        .values(values)
        .on_conflict_do_nothing(index_elements=[Message.author_id, Message.client_id])
        .returning(Message.id)
    )
    # Core on the session's connection: the ORM's bulk-insert machinery is not needed.
    connection = await db.connection()
    return await connection.scalar(statement)


async def find_by_client_id(db: AsyncSession, author_id: int, client_id: str) -> Message | None:
    return await db.scalar(
        select(Message).where(Message.author_id == author_id, Message.client_id == client_id)
    )


async def list_before(
    db: AsyncSession, room_id: int, before: int | None, limit: int
) -> list[MessageRow]:
    """The ``limit`` newest messages older than ``before`` (all when None), oldest first."""
    query = _with_author().where(Message.room_id == room_id)
    if before is not None:
        query = query.where(Message.id < before)
    rows = await db.execute(query.order_by(Message.id.desc()).limit(limit))
    return list(reversed(rows.all()))


async def list_after(db: AsyncSession, room_id: int, after: int, limit: int) -> list[MessageRow]:
    query = _with_author().where(Message.room_id == room_id, Message.id > after)
    rows = await db.execute(query.order_by(Message.id).limit(limit))
    return list(rows.all())


async def list_since_time(
    db: AsyncSession, room_id: int, since: datetime, limit: int
) -> list[MessageRow]:
    query = _with_author().where(Message.room_id == room_id, Message.created_at >= since)
    rows = await db.execute(query.order_by(Message.id).limit(limit))
    return list(rows.all())


async def list_missed(db: AsyncSession, user_id: int, after: int, limit: int) -> list[MessageRow]:
    """Messages after id ``after`` in every room the user is a member of, oldest first."""
    rooms = select(Membership.room_id).where(Membership.user_id == user_id)
    query = _with_author().where(Message.id > after, Message.room_id.in_(rooms))
    rows = await db.execute(query.order_by(Message.id).limit(limit))
    return list(rows.all())


async def latest_message_id(db: AsyncSession) -> int:
    return await db.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0


async def list_after_anywhere(db: AsyncSession, after: int, limit: int) -> list[MessageRow]:
    """Messages after id ``after`` in every room, oldest first (the live-update fallback)."""
    query = _with_author().where(Message.id > after)
    rows = await db.execute(query.order_by(Message.id).limit(limit))
    return list(rows.all())
