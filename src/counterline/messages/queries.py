from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from counterline import quick_reads
from counterline.accounts.models import User
from counterline.branches.models import Branch
from counterline.locks import Key
from counterline.messages.models import Message, MessageRevision
from counterline.rooms.models import Membership, Room, RoomKind


@dataclass(slots=True)
class StoredMessage:
    """A message as the record shows it, with its author's names and branch at posting.
    Plain columns rather than three ORM objects per message: pages of history are the
    most frequent read. Not frozen: a frozen dataclass sets each field through
    ``object.__setattr__``, 2.4 µs a message against 0.4 (0.1 ms a page); treat it as
    read-only all the same (``dataclasses.replace`` for a changed copy)."""

    id: int
    room_id: int
    client_id: str
    client_ip: str
    body: str
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    author_id: int
    author_username: str
    author_display_name: str
    branch_id: int
    branch_name: str
    mentions: list[dict[str, Any]] | None
    # Loaded apart, not a messages column (messages.attachments): the uploads shown with
    # it, as AttachmentOut. Keyword-only fields are never selected by the statements below.
    attachments: tuple[Any, ...] = field(default=(), kw_only=True)


# Where each StoredMessage field comes from: the messages column of the same name, unless
# listed here. A new message column needs only its StoredMessage field (and the model).
_FROM_JOINS: dict[str, ColumnElement[Any]] = {
    "author_username": User.username,
    "author_display_name": User.display_name,
    "branch_id": Message.author_branch_id,
    "branch_name": Branch.name,
}
STORED_FIELDS = tuple(each.name for each in fields(StoredMessage) if not each.kw_only)
_STORED = (
    select(*(_FROM_JOINS.get(name, Message.__table__.c.get(name)) for name in STORED_FIELDS))
    .join(User, User.id == Message.author_id)
    .join(Branch, Branch.id == Message.author_branch_id)
)


# For other capabilities' statements over messages (inbox.queries): StoredMessage's fields
# first, in order, then whatever they add.
STORED_SELECT = _STORED


def _stored(*where: ColumnElement[bool], newest_first: bool = False) -> Select[Any]:
    """Stored messages matching ``where``, in id order, at most ``:limit`` of them."""
    order = Message.id.desc() if newest_first else Message.id
    return _STORED.where(*where).order_by(order).limit(bindparam("limit"))


async def _fetch(
    db: AsyncSession, query: Select[Any], parameters: dict[str, Any]
) -> list[StoredMessage]:
    """Run a statement built once (below) as Core on the session's connection: reading
    history is the most frequent request, and building statements costs more than
    running them."""
    connection = await db.connection()
    return [StoredMessage(*row) for row in (await connection.execute(query, parameters)).all()]


COMMIT_ORDER_LOCK = Key.MESSAGE_COMMIT_ORDER.value


async def serialise_writers(db: AsyncSession) -> None:
    """Make message ids commit in increasing order, so "everything after id X" is exact.

    SQLite already has one writer at a time. On PostgreSQL a sequence value can
    commit after a larger one; a transaction-scoped advisory lock, taken just
    before the insert, keeps id order and commit order the same.
    """
    if db.bind.dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COMMIT_ORDER_LOCK})


POSTING_ORDER_LOCK = Key.MESSAGE_POSTING_ORDER.value


_HOLD_POSTING_ORDER = f"SELECT pg_advisory_lock({POSTING_ORDER_LOCK:d})"
_RELEASE_POSTING_ORDER = f"SELECT pg_advisory_unlock({POSTING_ORDER_LOCK:d})"


async def hold_posting_order(connection: AsyncConnection) -> None:
    """Across PostgreSQL nodes: one group of posts at a time from insert until its events are
    published, so message.posted events reach Redis in id order. Session-level: it outlives
    the commit.

    Taken and released straight on the driver, outside any transaction (the group's begins
    after it): through SQLAlchemy each statement began a transaction, and the release's
    BEGIN and ROLLBACK were two round trips more per group."""
    await (await connection.get_raw_connection()).driver_connection.execute(_HOLD_POSTING_ORDER)


async def release_posting_order(connection: AsyncConnection) -> None:
    driver = (await connection.get_raw_connection()).driver_connection
    await driver.execute(_RELEASE_POSTING_ORDER)


# The post path's statements are built once (building one costs more than running it)
# and run on the session's connection as Core statements with bound parameters.
_AUTHOR_BRANCHES_IN_ROOMS = (
    select(
        Membership.room_id,
        Membership.user_id,
        Branch.id,
        Branch.name,
        Room.archived_at,
        Room.kind == RoomKind.conversation,
    )
    .join(User, User.id == Membership.user_id)
    .join(Branch, Branch.id == User.branch_id)
    .join(Room, Room.id == Membership.room_id)
    .where(tuple_(Membership.room_id, Membership.user_id).in_(bindparam("pairs", expanding=True)))
)


async def find_author_branches_in_rooms(
    db: AsyncSession, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, str, bool, bool]]:
    """For each (room id, author id) where the author is a member of the room: the id and
    name of the author's branch as it is now, whether the room is archived and whether it
    is a conversation."""
    connection = await quick_reads.direct(db)
    result = await connection.execute(_AUTHOR_BRANCHES_IN_ROOMS, {"pairs": list(set(pairs))})
    return {
        (room_id, user_id): (branch_id, name, archived_at is not None, bool(conversation))
        for room_id, user_id, branch_id, name, archived_at, conversation in result
    }


@cache
def _insert_unless_posted(dialect: str) -> ReturningInsert[tuple[int, int, str]]:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    messages = Message.__table__
    return (
        insert(messages)
        .on_conflict_do_nothing(index_elements=[messages.c.author_id, messages.c.client_id])
        .returning(messages.c.id, messages.c.author_id, messages.c.client_id)
    )


async def insert_unless_posted(
    db: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[tuple[int, str], int]:
    """Insert message rows (ids in the order given) and return the new ids by (author id,
    client id). A row whose author already used its client id (a retry) writes nothing
    and is not in the answer."""
    if not rows:
        return {}
    connection = await quick_reads.direct(db)
    result = await connection.execute(_insert_unless_posted(db.bind.dialect.name), rows)
    return {(author_id, client_id): row_id for row_id, author_id, client_id in result}


# Read positions (rooms.reading): each room's messages are numbered 1, 2, 3… (messages.seq)
# and rooms.last_seq is the newest number, so a member's unread count is a subtraction.
# The numbers are taken in the insert's transaction, after serialise_writers: one statement
# for every room of a group, and the room rows stay locked (PostgreSQL) until the commit.
_TAKE_SEQS = {
    "sqlite": text(
        "UPDATE rooms SET last_seq = last_seq + taken.value FROM json_each(:counts) AS taken"
        " WHERE rooms.id = CAST(taken.key AS INTEGER) RETURNING rooms.id, rooms.last_seq"
    ),
    "postgresql": text(
        "UPDATE rooms SET last_seq = rooms.last_seq + taken.n"
        " FROM unnest(CAST(:room_ids AS integer[]), CAST(:ns AS integer[])) AS taken(id, n)"
        " WHERE rooms.id = taken.id RETURNING rooms.id, rooms.last_seq"
    ),
}


async def take_seqs(db: AsyncSession, counts: dict[int, int]) -> dict[int, int]:
    """Reserve ``counts[room_id]`` numbers in each room; the first number of each room's
    run, by room id."""
    if not counts:
        return {}
    connection = await quick_reads.direct(db)
    dialect = db.bind.dialect.name
    if dialect == "postgresql":
        parameters: dict[str, Any] = {"room_ids": list(counts), "ns": list(counts.values())}
    else:
        parameters = {"counts": json.dumps(counts)}
    result = await connection.execute(_TAKE_SEQS[dialect], parameters)
    return {room_id: last - counts[room_id] + 1 for room_id, last in result}


_GIVE_BACK_SEQS = (
    update(Room)
    .where(Room.id == bindparam("b_room_id"))
    .values(last_seq=Room.last_seq - bindparam("b_unused"))
)
_RENUMBER = update(Message).where(Message.id == bindparam("b_id")).values(seq=bindparam("b_seq"))


async def renumber(
    db: AsyncSession, unused: dict[int, int], seqs: Sequence[tuple[int, int]]
) -> None:
    """After an insert that skipped retries: give their numbers back (``unused`` by room)
    and move the messages that were inserted to ``seqs`` ((id, seq) pairs), so each room's
    numbers stay gapless."""
    connection = await db.connection()
    if seqs:
        await connection.execute(_RENUMBER, [{"b_id": i, "b_seq": seq} for i, seq in seqs])
    await connection.execute(
        _GIVE_BACK_SEQS, [{"b_room_id": r, "b_unused": n} for r, n in unused.items()]
    )


# Posting is reading: the author's read position moves up to her message, never back.
_READ_OWN = (
    update(Membership)
    .where(
        Membership.room_id == bindparam("b_room_id"),
        Membership.user_id == bindparam("b_user_id"),
        Membership.read_seq < bindparam("b_seq"),
    )
    .values(read_seq=bindparam("b_seq"), last_read_id=bindparam("b_id"))
)


async def read_own(db: AsyncSession, positions: Sequence[dict[str, int]]) -> int:
    """``positions``: b_room_id, b_user_id, b_seq and b_id (the message), one per author
    and room, in room order (a lock order shared with rooms.reading). How many moved."""
    if not positions:
        return 0
    connection = await quick_reads.direct(db)
    result = await connection.execute(_READ_OWN, list(positions))
    return result.rowcount


@dataclass(frozen=True, slots=True)
class _ForViewers:
    """A history statement in two variants, both built once: managers and administrators
    see deleted messages (as tombstones, ``deleted_at`` set), everyone else never does."""

    staff: Select[Any]
    others: Select[Any]

    @classmethod
    def of(cls, *where: ColumnElement[bool], newest_first: bool = False) -> _ForViewers:
        return cls(
            _stored(*where, newest_first=newest_first),
            _stored(*where, Message.deleted_at.is_(None), newest_first=newest_first),
        )

    def to(self, staff: bool) -> Select[Any]:
        return self.staff if staff else self.others


_BY_ID = _stored(Message.id == bindparam("message_id"))
_BY_CLIENT_ID = _stored(
    Message.author_id == bindparam("author_id"), Message.client_id == bindparam("client_id")
)
_NEWEST = _ForViewers.of(Message.room_id == bindparam("room_id"), newest_first=True)
_BEFORE = _ForViewers.of(
    Message.room_id == bindparam("room_id"), Message.id < bindparam("before"), newest_first=True
)
_AFTER = _ForViewers.of(Message.room_id == bindparam("room_id"), Message.id > bindparam("after"))
_MISSED = _ForViewers.of(
    Message.id > bindparam("after"),
    Message.room_id.in_(
        select(Membership.room_id).where(Membership.user_id == bindparam("user_id"))
    ),
)
# The live-update fallback republishes these as message.posted to everyone: never a
# deleted one (its tombstone would reach clerks' tabs as a live message).
_AFTER_ANYWHERE = _stored(Message.id > bindparam("after"), Message.deleted_at.is_(None))


async def find_by_client_id(
    db: AsyncSession, author_id: int, client_id: str
) -> StoredMessage | None:
    parameters = {"author_id": author_id, "client_id": client_id, "limit": 1}
    found = await _fetch(db, _BY_CLIENT_ID, parameters)
    return found[0] if found else None


async def find_message(db: AsyncSession, message_id: int) -> StoredMessage | None:
    """The message with this id, deleted or not."""
    found = await _fetch(db, _BY_ID, {"message_id": message_id, "limit": 1})
    return found[0] if found else None


async def lock_message(db: AsyncSession, message_id: int) -> Message | None:
    """The message's row, locked against other edits until the transaction ends: FOR UPDATE
    on PostgreSQL; SQLite's write transactions already hold its one writer."""
    query = select(Message).where(Message.id == message_id).with_for_update()
    return (await db.execute(query)).scalar_one_or_none()


async def list_revisions(
    db: AsyncSession, message_id: int
) -> list[tuple[MessageRevision, str, str]]:
    """The message's revisions, oldest first, each with its editor's username and name."""
    query = (
        select(MessageRevision, User.username, User.display_name)
        .join(User, User.id == MessageRevision.editor_id)
        .where(MessageRevision.message_id == message_id)
        .order_by(MessageRevision.id)
    )
    return [(revision, username, name) for revision, username, name in await db.execute(query)]


# History pages and catch-up: ``staff`` (managers, admins) also get deleted messages.
async def list_before(
    db: AsyncSession, room_id: int, before: int | None, limit: int, *, staff: bool = False
) -> list[StoredMessage]:
    """The ``limit`` newest messages older than ``before`` (all when None), oldest first."""
    if before is None:
        rows = await _fetch(db, _NEWEST.to(staff), {"room_id": room_id, "limit": limit})
    else:
        parameters = {"room_id": room_id, "before": before, "limit": limit}
        rows = await _fetch(db, _BEFORE.to(staff), parameters)
    return rows[::-1]


async def list_after(
    db: AsyncSession, room_id: int, after: int, limit: int, *, staff: bool = False
) -> list[StoredMessage]:
    parameters = {"room_id": room_id, "after": after, "limit": limit}
    return await _fetch(db, _AFTER.to(staff), parameters)


_FIRST_SINCE = (
    select(Message.id)
    .where(Message.room_id == bindparam("room_id"), Message.created_at >= bindparam("since"))
    .order_by(Message.created_at, Message.id)
    .limit(1)
)


async def list_since_time(
    db: AsyncSession, room_id: int, since: datetime, limit: int, *, staff: bool = False
) -> list[StoredMessage]:
    """A room's messages from its first one at or after ``since`` on, in id order. That
    first one is found on the (room, time) index; asking for "time >= since, by id" made
    the database sort the rest of the room (150 ms in a room of 200,000, bench.search)."""
    connection = await db.connection()
    first = await connection.scalar(_FIRST_SINCE, {"room_id": room_id, "since": since})
    if first is None:
        return []
    return await list_after(db, room_id, first - 1, limit, staff=staff)


async def list_missed(
    db: AsyncSession, user_id: int, after: int, limit: int, *, staff: bool = False
) -> list[StoredMessage]:
    """Messages after id ``after`` in every room the user is a member of, oldest first."""
    parameters = {"user_id": user_id, "after": after, "limit": limit}
    return await _fetch(db, _MISSED.to(staff), parameters)


_LATEST_ID = select(Message.id).order_by(Message.id.desc()).limit(1)


async def latest_message_id(db: AsyncSession) -> int:
    connection = await db.connection()
    return await connection.scalar(_LATEST_ID) or 0


async def list_after_anywhere(db: AsyncSession, after: int, limit: int) -> list[StoredMessage]:
    """Messages after id ``after`` in every room, oldest first (the live-update fallback)."""
    return await _fetch(db, _AFTER_ANYWHERE, {"after": after, "limit": limit})
