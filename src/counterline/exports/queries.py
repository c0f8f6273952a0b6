"""The SQL of record exports: what a room's export covers, and the messages of the record in
batches with their edits, attachments and who deleted them.

Deleted messages are part of the record here, unlike in every other listing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from counterline.accounts.models import User
from counterline.branches.models import Branch
from counterline.messages.models import Message, MessageAttachment, MessageRevision
from counterline.rooms.models import Room
from counterline.uploads.models import Upload


@dataclass(frozen=True, slots=True)
class Span:
    """The messages an export covers: how many, and the first and last id among them (the
    ids are fixed when the export is recorded, so later posts don't join it)."""

    count: int
    first_id: int
    last_id: int


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class RevisionRow:
    """One change to a message: the text from before it, who made it, from where, when."""

    action: str
    earlier_body: str
    editor: PersonRow
    editor_ip: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A message as the record holds it."""

    id: int
    room_id: int
    room_name: str
    author: PersonRow
    branch_id: int
    branch_name: str
    client_ip: str
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    deleted_by: PersonRow | None
    attachments: tuple[str, ...]
    revisions: tuple[RevisionRow, ...]


def _in_time(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    where = []
    if start is not None:
        where.append(Message.created_at >= start)
    if end is not None:
        where.append(Message.created_at < end)
    return where


async def span_of_room(
    db: AsyncSession, room_id: int, start: datetime | None, end: datetime | None
) -> Span:
    """The room's messages posted in [start, end) (deleted ones included)."""
    query = select(func.count(), func.min(Message.id), func.max(Message.id)).where(
        Message.room_id == room_id, *_in_time(start, end)
    )
    count, first_id, last_id = (await db.execute(query)).one()
    return Span(count, first_id or 0, last_id or 0)


async def room_batch(
    db: AsyncSession,
    room_id: int,
    span: Span,
    after_id: int,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[RecordRow]:
    """The next ``limit`` messages of the span after ``after_id``, oldest first."""
    low = max(after_id + 1, span.first_id)
    where = [
        Message.room_id == room_id,
        Message.id.between(low, span.last_id),
        *_in_time(start, end),
    ]
    return await _records(db, where, limit)


async def records_by_ids(db: AsyncSession, message_ids: Sequence[int]) -> list[RecordRow]:
    """The messages of these ids, oldest first (ids that are gone are left out)."""
    if not message_ids:
        return []
    return await _records(db, [Message.id.in_(message_ids)], len(message_ids))


_DELETER = aliased(User)
_MESSAGE_COLUMNS = (
    Message.id,
    Message.room_id,
    Room.name,
    User.id,
    User.username,
    User.display_name,
    Branch.id,
    Branch.name,
    Message.client_ip,
    Message.body,
    Message.created_at,
    Message.edited_at,
    Message.deleted_at,
    _DELETER.id,
    _DELETER.username,
    _DELETER.display_name,
)
_RECORDS = (
    select(*_MESSAGE_COLUMNS)
    .join(Room, Room.id == Message.room_id)
    .join(User, User.id == Message.author_id)
    .join(Branch, Branch.id == Message.author_branch_id)
    .outerjoin(_DELETER, _DELETER.id == Message.deleted_by_id)
)
_REVISIONS = (
    select(
        MessageRevision.message_id,
        MessageRevision.action,
        MessageRevision.body,
        User.id,
        User.username,
        User.display_name,
        MessageRevision.editor_ip,
        MessageRevision.created_at,
    )
    .join(User, User.id == MessageRevision.editor_id)
    .where(MessageRevision.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(MessageRevision.message_id, MessageRevision.id)
)
_ATTACHMENTS = (
    select(MessageAttachment.message_id, Upload.name)
    .join(Upload, Upload.id == MessageAttachment.upload_id)
    .where(MessageAttachment.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(MessageAttachment.message_id, MessageAttachment.position)
)


async def _records(
    db: AsyncSession, where: list[ColumnElement[bool]], limit: int
) -> list[RecordRow]:
    """Three statements per batch: the messages, then their revisions and attachments (run
    as Core on the session's connection: a large export runs thousands of batches)."""
    connection = await db.connection()
    query = _RECORDS.where(*where).order_by(Message.id).limit(limit)
    rows = (await connection.execute(query)).all()
    ids = [row[0] for row in rows]
    if not ids:
        return []
    revisions: dict[int, list[RevisionRow]] = defaultdict(list)
    for message_id, action, body, *editor, ip, at in await connection.execute(
        _REVISIONS, {"ids": ids}
    ):
        revisions[message_id].append(RevisionRow(action, body, PersonRow(*editor), ip, at))
    names: dict[int, list[str]] = defaultdict(list)
    for message_id, name in await connection.execute(_ATTACHMENTS, {"ids": ids}):
        names[message_id].append(name)
    return [_record(row, names[row[0]], revisions[row[0]]) for row in rows]


def _record(row: Any, names: list[str], revisions: list[RevisionRow]) -> RecordRow:
    (id_, room_id, room_name, *author, branch_id, branch_name, ip, body, created_at) = row[:11]
    edited_at, deleted_at, deleter_id, deleter_username, deleter_name = row[11:]
    deleter = None
    if deleter_id is not None:
        deleter = PersonRow(deleter_id, deleter_username, deleter_name)
    return RecordRow(
        id=id_,
        room_id=room_id,
        room_name=room_name,
        author=PersonRow(*author),
        branch_id=branch_id,
        branch_name=branch_name,
        client_ip=ip,
        body=body,
        created_at=created_at,
        edited_at=edited_at,
        deleted_at=deleted_at,
        deleted_by=deleter,
        attachments=tuple(names),
        revisions=tuple(revisions),
    )
