from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as the record shows it, with its author's names and branch at posting.
    Plain columns rather than three ORM objects per message: pages of history are the
    most frequent read."""

    id: int
    room_id: int
    client_id: str
    client_ip: str
    body: str
    body_html: str
    created_at: datetime
    author_id: int
    author_username: str
    author_display_name: str
    branch_id: int
    branch_name: str


def _stored() -> Select[Any]:
    return (
        select(
            Message.id,
            Message.room_id,
            Message.client_id,
            Message.client_ip,
            Message.body,
            Message.body_html,
            Message.created_at,
            Message.author_id,
            User.username,
            User.display_name,
            Message.author_branch_id,
            Branch.name,
        )
        .join(User, User.id == Message.author_id)
        .join(Branch, Branch.id == Message.author_branch_id)
    )


async def _fetch(db: AsyncSession, query: Select[Any]) -> list[StoredMessage]:
    return [StoredMessage(*row) for row in await db.execute(query)]


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
) -> tuple[int, str] | None:
    """The id and name of the author's branch as it is now, if the author is a member
    of the room."""
    row = (
        await db.execute(
            select(Branch.id, Branch.name)
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .join(Branch, Branch.id == User.branch_id)
            .where(Membership.room_id == room_id, Membership.user_id == author_id)
        )
    ).first()
    return None if row is None else (row.id, row.name)


async def insert_unless_posted(db: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert a message row and return its id; None when its author already used its
    client id (a retry), in which case nothing is written."""
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


async def find_by_client_id(
    db: AsyncSession, author_id: int, client_id: str
) -> StoredMessage | None:
    query = _stored().where(Message.author_id == author_id, Message.client_id == client_id)
    found = await _fetch(db, query)
    return found[0] if found else None


async def list_before(
    db: AsyncSession, room_id: int, before: int | None, limit: int
) -> list[StoredMessage]:
    """The ``limit`` newest messages older than ``before`` (all when None), oldest first."""
    query = _stored().where(Message.room_id == room_id)
    if before is not None:
        query = query.where(Message.id < before)
    return list(reversed(await _fetch(db, query.order_by(Message.id.desc()).limit(limit))))


async def list_after(db: AsyncSession, room_id: int, after: int, limit: int) -> list[StoredMessage]:
    query = _stored().where(Message.room_id == room_id, Message.id > after)
    return await _fetch(db, query.order_by(Message.id).limit(limit))


async def list_since_time(
    db: AsyncSession, room_id: int, since: datetime, limit: int
) -> list[StoredMessage]:
    query = _stored().where(Message.room_id == room_id, Message.created_at >= since)
    return await _fetch(db, query.order_by(Message.id).limit(limit))


async def list_missed(
    db: AsyncSession, user_id: int, after: int, limit: int
) -> list[StoredMessage]:
    """Messages after id ``after`` in every room the user is a member of, oldest first."""
    rooms = select(Membership.room_id).where(Membership.user_id == user_id)
    query = _stored().where(Message.id > after, Message.room_id.in_(rooms))
    return await _fetch(db, query.order_by(Message.id).limit(limit))


async def latest_message_id(db: AsyncSession) -> int:
    return await db.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0


async def list_after_anywhere(db: AsyncSession, after: int, limit: int) -> list[StoredMessage]:
    """Messages after id ``after`` in every room, oldest first (the live-update fallback)."""
    query = _stored().where(Message.id > after)
    return await _fetch(db, query.order_by(Message.id).limit(limit))
