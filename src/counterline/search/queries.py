"""The SQL of search: candidate message ids from the index, newest first, with the viewer's
rooms and the filters joined in; the texts to check them against; the rows of a page.

The index (``message_search``, migration 0008) answers "which messages have all these
terms". Candidates come newest first (``ORDER BY message id DESC LIMIT n``), so the
database can walk the index backwards and stop after n: on SQLite FTS5 delivers rowids in
that order; on PostgreSQL a common term is read walking the primary key backwards and a
rare one from the GIN index, as the planner's term statistics say. Terms are bound values
(an FTS5 expression of double-quoted terms, a tsquery of quoted lexemes), never SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import User
from counterline.branches.models import Branch
from counterline.messages.models import Message, MessageAddressee, MessageAttachment
from counterline.rooms.models import Membership, Room
from counterline.search.models import SearchTerm
from counterline.uploads.models import Upload

_SQLITE_INDEX = table("message_search", column("rowid", Integer), column("terms"))
_POSTGRES_INDEX = table(
    "message_search", column("message_id", Integer), column("room_id", Integer), column("terms")
)
# The viewer's rooms, checked in the candidate query itself: one round trip fewer, and a
# membership ended a moment ago is already gone.
_MEMBER_ROOMS = select(Membership.room_id).where(Membership.user_id == bindparam("viewer"))
PICTURE = "image"  # uploads.kind of a picture; every other attachment is a file


@dataclass(frozen=True, slots=True)
class Scope:
    """Which messages a search may return: in the rooms ``viewer_id`` is a member of (only
    ``room_ids`` among them, if given), and each other filter as resolved to ids and times
    (None: any)."""

    viewer_id: int
    room_ids: Sequence[int] | None = None
    author_ids: Sequence[int] | None = None
    branch_ids: Sequence[int] | None = None
    start: datetime | None = None
    end: datetime | None = None
    has: frozenset[str] = frozenset()
    mentioning: int | None = None

    @property
    def narrows_messages(self) -> bool:
        """Whether a filter needs the messages table (beyond room and id)."""
        return bool(
            self.author_ids is not None
            or self.branch_ids is not None
            or self.start
            or self.end
            or self.has
            or self.mentioning is not None
        )


def fts_expression(terms: Sequence[str]) -> str:
    """An FTS5 query needing every term, each double-quoted (taken as one token)."""
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)


# A long word as the whole-word term OR its character pairs: the same messages (a text
# indexed under the word has all its pairs), but PostgreSQL estimates the pairs together as
# independent, far rarer than they are, and then gathers every match in a bitmap and sorts
# it (360 ms for a word in 5 % of a million messages) instead of walking the index newest
# first (5 ms); with the word beside them its estimate is the word's own (bench.search).
Word = tuple[str, Sequence[str]]


def tsquery_value(terms: Sequence[str], words: Sequence[Word] = ()) -> str:
    """A tsquery needing every term as an exact lexeme (the text form, parsed by the type's
    input function: no dictionary touches it); each of ``words`` (a word and its pairs) may
    be found by the word's own term instead of its pairs."""
    grouped: set[str] = set()
    parts = []
    for word, pairs in words:
        parts.append(f"({_lexeme(word)} | ({' & '.join(map(_lexeme, pairs))}))")
        grouped.update(pairs)
    parts += [_lexeme(term) for term in terms if term not in grouped]
    return " & ".join(parts)


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


async def candidate_ids(
    db: AsyncSession,
    scope: Scope,
    terms: Sequence[str],
    *,
    below: int | None,
    limit: int,
    words: Sequence[Word] = (),
) -> list[int]:
    """Ids of messages in scope having all ``terms`` (any message, without terms), newest
    first, smaller than ``below``. ``words``: long words among them with their pairs
    (``tsquery_value``; only PostgreSQL's planner needs them)."""
    connection = await db.connection()
    if db.bind.dialect.name == "postgresql":
        statement, parameters = _postgres_candidates(scope, terms, below, words)
    else:
        statement, parameters = _sqlite_candidates(scope, terms, below)
    result = await connection.execute(statement.limit(limit), parameters)
    return list(result.scalars())


def _sqlite_candidates(
    scope: Scope, terms: Sequence[str], below: int | None
) -> tuple[Select[Any], dict[str, Any]]:
    m = Message.__table__
    parameters: dict[str, Any] = {"viewer": scope.viewer_id}
    where = [m.c.room_id.in_(_MEMBER_ROOMS), m.c.deleted_at.is_(None)]
    if scope.room_ids is not None:
        where.append(_in_rooms(m.c.room_id, scope.room_ids, parameters, postgres=False))
    where += _message_filters(scope, parameters, checked_per_row=bool(terms))
    if not terms:
        key = m.c.id
        statement = select(m.c.id)
    else:
        index = _SQLITE_INDEX
        key = index.c.rowid
        statement = select(index.c.rowid).join(m, m.c.id == index.c.rowid)
        where.append(literal_column("message_search").op("MATCH")(bindparam("match")))
        parameters["match"] = fts_expression(terms)
    if below is not None:
        where.append(key < bindparam("below"))
        parameters["below"] = below
    return statement.where(*where).order_by(key.desc()), parameters


def _postgres_candidates(
    scope: Scope, terms: Sequence[str], below: int | None, words: Sequence[Word]
) -> tuple[Select[Any], dict[str, Any]]:
    m = Message.__table__
    parameters: dict[str, Any] = {"viewer": scope.viewer_id}
    if not terms:
        key, room = m.c.id, m.c.room_id
        statement = select(m.c.id)
        filters = _message_filters(scope, parameters, checked_per_row=False)
        where = [m.c.deleted_at.is_(None), *filters]
    else:
        index = _POSTGRES_INDEX
        key, room = index.c.message_id, index.c.room_id
        statement = select(index.c.message_id)
        where = [index.c.terms.op("@@")(bindparam("match", type_=TSQUERY))]
        parameters["match"] = tsquery_value(terms, words)
        if scope.narrows_messages:
            statement = statement.join(m, m.c.id == index.c.message_id)
            where += _message_filters(scope, parameters, checked_per_row=True)
    where.append(room.in_(_MEMBER_ROOMS))
    if scope.room_ids is not None:
        where.append(_in_rooms(room, scope.room_ids, parameters, postgres=True))
    if below is not None:
        where.append(key < bindparam("below"))
        parameters["below"] = below
    return statement.where(*where).order_by(key.desc()), parameters


def _in_rooms(
    room: ColumnElement[int],
    room_ids: Sequence[int],
    parameters: dict[str, Any],
    *,
    postgres: bool,
) -> ColumnElement[bool]:
    """In these rooms. One room (the usual case) is an equality, so the database can walk
    that room's messages newest first on its (room_id, id) index."""
    if len(room_ids) == 1:
        parameters["room"] = room_ids[0]
        return room == bindparam("room")
    parameters["rooms"] = list(room_ids)
    if postgres:  # one statement text whatever the number of rooms
        return room == any_(bindparam("rooms", type_=ARRAY(Integer)))
    return room.in_(bindparam("rooms", expanding=True))


def _message_filters(
    scope: Scope, parameters: dict[str, Any], *, checked_per_row: bool
) -> list[ColumnElement[bool]]:
    """The filters on the messages table (``Message.__table__`` as ``m``); with
    ``checked_per_row``, the index drives the query and each candidate is checked."""
    m = Message.__table__
    where: list[ColumnElement[bool]] = []
    if scope.author_ids is not None:
        where.append(m.c.author_id.in_(scope.author_ids))
    if scope.branch_ids is not None:
        where.append(m.c.author_branch_id.in_(scope.branch_ids))
    if scope.start is not None:
        where.append(m.c.created_at >= bindparam("start", type_=Message.created_at.type))
        parameters["start"] = scope.start
    if scope.end is not None:
        where.append(m.c.created_at < bindparam("end", type_=Message.created_at.type))
        parameters["end"] = scope.end
    for kind in sorted(scope.has):
        picture = Upload.kind == PICTURE
        attached = (
            select(MessageAttachment.message_id)
            .join(Upload, Upload.id == MessageAttachment.upload_id)
            .where(picture if kind == "picture" else ~picture)
        )
        # Words first: a check per candidate. Filters alone: a list to start from, since
        # few messages have attachments and walking all the others would find none.
        if checked_per_row:
            where.append(exists(attached.where(MessageAttachment.message_id == m.c.id)))
        else:
            where.append(m.c.id.in_(attached))
    if scope.mentioning is not None:
        # A list to start from (someone's inbox, by its primary key), not a check per row:
        # a clerk is addressed in few of all the messages.
        addressed = select(MessageAddressee.message_id).where(
            MessageAddressee.user_id == bindparam("mentioning")
        )
        where.append(m.c.id.in_(addressed))
        parameters["mentioning"] = scope.mentioning
    return where


_TEXTS_OF = (
    select(Message.id, Message.body, Upload.name)
    .outerjoin(MessageAttachment, MessageAttachment.message_id == Message.id)
    .outerjoin(Upload, Upload.id == MessageAttachment.upload_id)
    .where(Message.id.in_(bindparam("ids", expanding=True)))
    .order_by(Message.id, MessageAttachment.position)
)


async def texts_of(db: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[str, list[str]]]:
    """Each message's body and its attachments' names, in order (one query)."""
    found: dict[int, tuple[str, list[str]]] = {}
    if ids:
        connection = await db.connection()
        for message_id, body, name in await connection.execute(_TEXTS_OF, {"ids": list(ids)}):
            _, names = found.setdefault(message_id, (body, []))
            if name is not None:
                names.append(name)
    return found


_RESULTS = (
    select(
        Message.id,
        Message.body,
        Message.created_at,
        Room.id.label("room_id"),
        Room.name.label("room_name"),
        Room.kind.label("room_kind"),
        User.id.label("author_id"),
        User.username.label("author_username"),
        User.display_name.label("author_display_name"),
        Branch.id.label("branch_id"),
        Branch.name.label("branch_name"),
        Upload.name.label("file_name"),
        Upload.kind.label("file_kind"),
    )
    .join(Room, Room.id == Message.room_id)
    .join(User, User.id == Message.author_id)
    .join(Branch, Branch.id == Message.author_branch_id)
    .outerjoin(MessageAttachment, MessageAttachment.message_id == Message.id)
    .outerjoin(Upload, Upload.id == MessageAttachment.upload_id)
    .where(Message.id.in_(bindparam("ids", expanding=True)))
    .order_by(Message.id, MessageAttachment.position)
)


async def result_rows(db: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[Any, list[Any]]]:
    """What a page of results shows, by message id: the row, and (name, kind) of each of
    its attachments in order (one query for both)."""
    if not ids:
        return {}
    connection = await db.connection()
    found: dict[int, tuple[Any, list[Any]]] = {}
    for row in await connection.execute(_RESULTS, {"ids": list(ids)}):
        _, files = found.setdefault(row.id, (row, []))
        if row.file_name is not None:
            files.append((row.file_name, row.file_kind))
    return found


async def user_ids_named(db: AsyncSession, name: str) -> list[int]:
    """Users whose username (any case) or display name is ``name``."""
    statement = select(User.id).where(
        or_(func.lower(User.username) == name.lower(), User.display_name == name)
    )
    return list(await db.scalars(statement))


async def branch_ids_named(db: AsyncSession, name: str) -> list[int]:
    """The branch called ``name``; else those whose name contains it (``花桥`` for
    ``花桥营业厅``)."""
    exact = list(await db.scalars(select(Branch.id).where(Branch.name == name)))
    if exact:
        return exact
    return list(
        await db.scalars(select(Branch.id).where(Branch.name.contains(name, autoescape=True)))
    )


async def room_ids_named(db: AsyncSession, name: str, user_id: int) -> list[int]:
    """Among the user's rooms, those called ``name``; else those whose name contains it."""
    mine = Room.id.in_(select(Membership.room_id).where(Membership.user_id == user_id))
    exact = list(await db.scalars(select(Room.id).where(mine, Room.name == name)))
    if exact:
        return exact
    contains = and_(mine, Room.name.contains(name, autoescape=True))
    return list(await db.scalars(select(Room.id).where(contains)))


async def list_terms(db: AsyncSession) -> list[Any]:
    statement = (
        select(SearchTerm.id, SearchTerm.term, SearchTerm.created_at, User.username)
        .join(User, User.id == SearchTerm.created_by_id)
        .order_by(SearchTerm.term)
    )
    return list((await db.execute(statement)).all())


async def all_terms(db: AsyncSession) -> list[str]:
    return list(await db.scalars(select(SearchTerm.term)))


async def find_term(db: AsyncSession, term: str) -> SearchTerm | None:
    return await db.scalar(select(SearchTerm).where(SearchTerm.term == term))
