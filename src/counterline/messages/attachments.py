"""Uploads shown with messages: checked and linked when a message is posted, loaded with
pages of history and catch-up (one query per page), and downloaded by the room's members.

Access to an upload: its uploader always (the composer shows it before it is posted); once
attached, the members of its message's room, as for reading the room (``room_members_read``,
a rule of ``uploads.access.Readers``, wired in services.py). Anyone else gets 404. The
download routes are in ``uploads.downloads``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import UserError
from counterline.i18n import N_
from counterline.messages.models import Message, MessageAttachment
from counterline.messages.queries import StoredMessage
from counterline.messages.schemas import AttachmentOut
from counterline.rooms.queries import is_member
from counterline.uploads.access import UPLOAD_COLUMNS as _UPLOAD_COLUMNS
from counterline.uploads.access import check_own
from counterline.uploads.models import Upload
from counterline.uploads.schemas import upload_fields

ALREADY_ATTACHED = N_("Attachment %(id)s is already attached to a message.")
# Statements built once, run as Core (history pages are the most frequent read).
_CLAIMS = (
    select(*_UPLOAD_COLUMNS, MessageAttachment.message_id, Message.author_id, Message.client_id)
    .outerjoin(MessageAttachment, MessageAttachment.upload_id == Upload.id)
    .outerjoin(Message, Message.id == MessageAttachment.message_id)
    .where(Upload.id.in_(bindparam("ids", expanding=True)))
)
_OF_MESSAGES = (
    select(MessageAttachment.message_id, *_UPLOAD_COLUMNS)
    .join(Upload, Upload.id == MessageAttachment.upload_id)
    .where(MessageAttachment.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(MessageAttachment.message_id, MessageAttachment.position)
)
# A page of one room's history: its span of ids in the room, a statement that doesn't
# change with the page (a list of ids would be written into the SQL on every page).
_OF_ROOM_SPAN = (
    select(MessageAttachment.message_id, *_UPLOAD_COLUMNS)
    .join(Upload, Upload.id == MessageAttachment.upload_id)
    .where(
        MessageAttachment.message_id.in_(
            select(Message.id).where(
                Message.room_id == bindparam("room_id"),
                Message.id.between(bindparam("first"), bindparam("last")),
            )
        )
    )
    .order_by(MessageAttachment.message_id, MessageAttachment.position)
)
_ROOM_OF = (
    select(Message.room_id)
    .join(MessageAttachment, MessageAttachment.message_id == Message.id)
    .where(MessageAttachment.upload_id == bindparam("id"), Message.deleted_at.is_(None))
)
_LINK = insert(MessageAttachment)


def attachment_out(row: Any) -> AttachmentOut:
    return AttachmentOut.model_validate(upload_fields(row))


async def claim(
    db: AsyncSession, wanted: Sequence[tuple[int, str, Sequence[int]]]
) -> list[tuple[AttachmentOut, ...] | UserError]:
    """For each draft (author id, client id, upload ids): its attachments in order, or why
    they are refused. An upload may be attached by its uploader, once; a retry of the post
    that attached it (same author and client id) passes, and the insert finds the retry.
    One query for all drafts; none when no draft has attachments (the caller skips it)."""
    ids = {upload_id for _, _, upload_ids in wanted for upload_id in upload_ids}
    connection = await db.connection()
    found = {row.id: row for row in await connection.execute(_CLAIMS, {"ids": list(ids)})}
    claimed: set[int] = set()
    answers: list[tuple[AttachmentOut, ...] | UserError] = []
    for author_id, client_id, upload_ids in wanted:
        answers.append(_claim_one(found, claimed, author_id, client_id, upload_ids))
    return answers


def _claim_one(
    found: dict[int, Any],
    claimed: set[int],
    author_id: int,
    client_id: str,
    upload_ids: Sequence[int],
) -> tuple[AttachmentOut, ...] | UserError:
    refused = check_own(found, author_id, upload_ids)
    if refused is not None:
        return refused
    for upload_id in upload_ids:
        row = found[upload_id]
        retry = row.author_id == author_id and row.client_id == client_id
        if (row.message_id is not None and not retry) or upload_id in claimed:
            return UserError(ALREADY_ATTACHED, id=upload_id)
    claimed.update(upload_ids)
    return tuple(attachment_out(found[upload_id]) for upload_id in upload_ids)


async def link(db: AsyncSession, links: Iterable[tuple[int, Sequence[int]]]) -> None:
    """Attach uploads to new messages: (message id, upload ids in order)."""
    rows = [
        {"message_id": message_id, "position": position, "upload_id": upload_id}
        for message_id, upload_ids in links
        for position, upload_id in enumerate(upload_ids)
    ]
    if rows:
        connection = await db.connection()
        await connection.execute(_LINK, rows)


async def with_attachments(
    db: AsyncSession, messages: Sequence[StoredMessage]
) -> list[StoredMessage]:
    """The messages with their attachments: one query for all of them."""
    if not messages:
        return list(messages)
    connection = await db.connection()
    found = await connection.execute(_OF_MESSAGES, {"ids": [m.id for m in messages]})
    return _attached(messages, found)


async def with_page_attachments(
    db: AsyncSession, room_id: int, page: Sequence[StoredMessage]
) -> list[StoredMessage]:
    """``with_attachments`` for a page of one room's messages in id order."""
    if not page:
        return list(page)
    connection = await db.connection()
    span = {"room_id": room_id, "first": page[0].id, "last": page[-1].id}
    return _attached(page, await connection.execute(_OF_ROOM_SPAN, span))


def _attached(messages: Sequence[StoredMessage], found: Iterable[Any]) -> list[StoredMessage]:
    """The messages with the attachments ``found`` for them (rows of message id and
    upload, in order); rows of other messages are passed over."""
    by_message: dict[int, list[AttachmentOut]] = defaultdict(list)
    for row in found:
        by_message[row.message_id].append(attachment_out(row))
    if not by_message:
        return list(messages)
    return [
        replace(m, attachments=tuple(by_message[m.id])) if m.id in by_message else m
        for m in messages
    ]


async def room_members_read(unit: Unit, viewer: User, upload_id: int) -> bool:
    """Whether ``viewer`` is a member of the room of the message showing the upload (none
    once the message is deleted)."""
    connection = await unit.session.connection()
    room_id = (await connection.execute(_ROOM_OF, {"id": upload_id})).scalar()
    return room_id is not None and await is_member(unit.session, room_id, viewer.id)
