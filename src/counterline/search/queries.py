"""The SQL of search: candidate message ids from the index, newest first, with the viewer's
rooms and the filters joined in; the texts to check them against; the rows of a page.

The index (``message_search``, migration 0008) answers "which messages have all these
terms". Candidates come newest first (``ORDER BY message id DESC LIMIT n``): on SQLite FTS5
delivers rowids in that order and stops after n. On PostgreSQL the words alone (no filter
on the messages table) are found in windows, newest first, whose shape the planner cannot
change (``_postgres_newest``): the newest rows in scope are read and tested, a window at a
time, while the words are common there; once they are rare (none in the first window, or
so few that fetching the rest through the GIN index costs less than reading on), the GIN
index gives the rest. The planner cannot choose this itself: it estimates a long word's
character pairs as independent (far rarer than they are), and the prepared statement's
generic plan sees no term at all. Terms are bound values (an FTS5 expression of
double-quoted terms, a tsquery of quoted lexemes), never SQL text.
"""

from __future__ import annotations

import math
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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from counterline.accounts.models import User
from counterline.branches.models import Branch
from counterline.messages.models import Message, MessageAddressee, MessageAttachment
from counterline.rooms.models import Membership, Room
from counterline.search.models import SearchTerm
from counterline.search.term_shares import term_shares
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
        if terms and not scope.narrows_messages:
            return await _postgres_newest(connection, scope, terms, below, limit, words)
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


# PostgreSQL, words without a filter on the messages table: windows newest first.
RARE_MATCHES = 1000  # matches at most (term_shares) for which the GIN index goes first
MIN_WINDOW, FIRST_WINDOW, MAX_FIRST_WINDOW = 200, 2000, 8000  # rows read and tested first
PROBE_WINDOW = 500  # first, for words rare together if independent, common each
MAX_WINDOW = 25_000  # rows passed in one window at most (about 10 ms)
MAX_READ = 100_000  # rows passed in all before the GIN index gives the rest anyway
# A match fetched through the GIN index costs about as much as this many rows read in order
# (its row is anywhere in the table; the newest rows are together): over 1,000,000 messages
# held in memory, 500–1,100 matches of two words in 3.4–4.3 ms, ~0.7 µs a row read in order
# (bench/README.md, "Posts as a quick route…": the two-word tail).
GIN_ROW_COST = 12


async def _postgres_newest(
    connection: AsyncConnection,
    scope: Scope,
    terms: Sequence[str],
    below: int | None,
    limit: int,
    words: Sequence[Word],
) -> list[int]:
    """Up to ``limit`` ids in scope having all ``terms``, newest first, below ``below``.

    Terms in at most ``RARE_MATCHES`` messages (``term_shares``) come from the GIN index.
    Others are looked for in windows: the newest rows in scope below the last one read,
    each tested against the terms, the reading stopped as soon as the page is full. The
    first window is what should fill the page at the terms' expected share
    (``PROBE_WINDOW`` when that says rare but the bound does not); the next ones are sized
    by the matches seen so far. When a window had none, or fetching the remaining matches
    at the rate seen through the GIN index costs less than reading on (``GIN_ROW_COST``;
    reading counts the rows of other rooms passed over), or ``MAX_READ`` rows were passed,
    the GIN index gives the rest below the last row read. So a common word costs the few
    thousand newest rows that hold its page, a rare one its matches, and no plan depends on
    the planner's estimates (bench/README.md, "Search over 1,000,000 messages")."""
    parameters: dict[str, Any] = {"viewer": scope.viewer_id, "match": tsquery_value(terms, words)}
    index = _POSTGRES_INDEX
    one_room = scope.room_ids is not None and len(scope.room_ids) == 1
    rooms = (
        []
        if scope.room_ids is None
        else [_in_rooms(index.c.room_id, scope.room_ids, parameters, postgres=True)]
    )
    shares = await term_shares(connection)
    window = FIRST_WINDOW
    if shares is not None:
        expected = shares.expected(terms, words)
        if shares.at_most(terms, words) * shares.rows <= RARE_MATCHES:
            return await _rest_from_gin(connection, rooms, parameters, below, limit)
        if expected * shares.rows <= RARE_MATCHES:
            window = PROBE_WINDOW  # rare if its words are independent: a look first
        else:
            window = min(MAX_FIRST_WINDOW, max(MIN_WINDOW, math.ceil(2 * limit / expected)))
    found: list[int] = []
    read = passed = 0
    while True:
        wanted = limit - len(found)
        statement = _window(rooms, below is not None).limit(wanted + 2)
        rows = await connection.execute(statement, {**parameters, "below": below, "window": window})
        highest = lowest = None
        for message_id, hit, number in rows:
            if hit:
                found.append(message_id)
            if number == 1:
                highest = message_id
            if number == window:
                lowest = message_id
        if len(found) >= limit or lowest is None:  # the page is full, or nothing older
            return found[:limit]
        assert highest is not None
        read += window
        # One room is read on its own index; other scopes walk every room's rows.
        passed += window if one_room else highest - lowest + 1
        below = lowest
        wanted = limit - len(found)
        rate, cost = len(found) / read, passed / read  # matches and rows passed per row read
        # Judged at one match fewer than seen: one or two matches in a look say little, and
        # reading on at a rate that was luck costs up to MAX_READ rows (the two-word tail).
        doubtful = (len(found) - 1) / read
        if (
            doubtful <= 0
            or GIN_ROW_COST * rate * lowest < cost * wanted / doubtful
            or passed >= MAX_READ
        ):
            return found + await _rest_from_gin(connection, rooms, parameters, below, wanted)
        window = min(MAX_WINDOW // math.ceil(cost), max(MIN_WINDOW, math.ceil(1.5 * wanted / rate)))


async def _rest_from_gin(
    connection: AsyncConnection,
    rooms: list[ColumnElement[bool]],
    parameters: dict[str, Any],
    below: int | None,
    limit: int,
) -> list[int]:
    statement = _from_gin(rooms, below is not None).limit(limit)
    return list((await connection.execute(statement, {**parameters, "below": below})).scalars())


def _window(rooms: list[ColumnElement[bool]], below: bool) -> Select[Any]:
    """The newest ``window`` rows in scope (below ``below``), newest first, as (id, whether
    it has the terms, its number from 1): those with the terms, and the first and the
    last row (where the next window starts). Read in order, so a LIMIT on this stops the
    reading as soon as enough matches are found; the LIMIT inside fixes the plan: the rows
    are read newest first (on the (room_id, message_id) index for one room, the primary key
    otherwise), never gathered from the GIN index and sorted."""
    index = _POSTGRES_INDEX
    # The viewer's rooms as an array, read once: tested on each row read, cheaper than a
    # join per row (most rows read in a narrow scope are another room's).
    member = index.c.room_id == any_(func.array(_MEMBER_ROOMS.scalar_subquery()))
    where = [member, *rooms]
    if below:
        where.append(index.c.message_id < bindparam("below"))
    recent = (
        select(index.c.message_id, index.c.terms)
        .where(*where)
        .order_by(index.c.message_id.desc())
        .limit(bindparam("window", type_=Integer))
        .subquery("recent")
    )
    numbered = select(
        recent.c.message_id,
        recent.c.terms.op("@@")(bindparam("match", type_=TSQUERY)).label("hit"),
        func.row_number().over(order_by=recent.c.message_id.desc()).label("number"),
    ).subquery("numbered")
    window = bindparam("window", type_=Integer)
    return (
        select(numbered.c.message_id, numbered.c.hit, numbered.c.number)
        .where(or_(numbered.c.hit, numbered.c.number == 1, numbered.c.number == window))
        .order_by(numbered.c.message_id.desc())
    )


def _from_gin(rooms: list[ColumnElement[bool]], below: bool) -> Select[Any]:
    """Ids having the terms (below ``below``), newest first, found through the GIN index:
    the matches are gathered in a materialized CTE (no ORDER BY ... LIMIT there for the
    planner to walk the table for), then sorted."""
    index = _POSTGRES_INDEX
    where = [index.c.terms.op("@@")(bindparam("match", type_=TSQUERY)), *rooms]
    if below:
        where.append(index.c.message_id < bindparam("below"))
    hits = (
        select(index.c.message_id, index.c.room_id)
        .where(*where)
        .cte("hits")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(hits.c.message_id)
        .where(hits.c.room_id.in_(_MEMBER_ROOMS))
        .order_by(hits.c.message_id.desc())
    )


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
