"""Editing and deleting messages, on the record.

Authors may edit or delete their own messages within the edit window
(``COUNTERLINE_MESSAGE_EDIT_MINUTES``, default 15); administrators any message, at any time.
Either way the editor must (still) be a member of the message's room, as for reading it.
Every change keeps the text as it was in a ``MessageRevision`` (who, when, from which
address), is audited, and is announced live (``message.edited``, ``message.deleted``). A
deleted message stays in the table: managers and administrators see its tombstone and its
history (``message_history``), everyone else never sees it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from counterline.accounts.models import User
from counterline.audit.actions import record
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound
from counterline.i18n import N_
from counterline.messages import indexing, mentions, queries
from counterline.messages.actions import Draft, check_body, message_out
from counterline.messages.attachments import with_attachments
from counterline.messages.events import MessageDeleted, MessageEdited
from counterline.messages.models import Message, MessageRevision
from counterline.messages.queries import StoredMessage
from counterline.messages.schemas import AuthorOut, MessageHistory, MessageOut, MessageVersionOut
from counterline.rooms.actions import check_open
from counterline.rooms.queries import find_room, is_member

MESSAGE_NOT_FOUND = N_("Message not found, or you are not a member of its room.")
ONLY_STAFF_SEE_HISTORY = N_("Only managers and administrators can see a message's history.")


@dataclass(frozen=True, slots=True)
class _Change:
    """What a refusal says, per kind of change."""

    action: str  # the revision's action and the audit entry's verb
    not_yours: str
    too_late: str


_EDIT = _Change(
    "edited",
    N_("You can only edit your own messages."),
    N_("You can only edit a message within %(minutes)s minutes of posting."),
)
_DELETE = _Change(
    "deleted",
    N_("You can only delete your own messages."),
    N_("You can only delete a message within %(minutes)s minutes of posting."),
)


async def _render_and_address(unit: Unit, editor: User, message: Message) -> None:
    """Render the edited text as posting renders it, its @mentions resolved among the
    room's members now, and put it in the inbox of whoever it newly mentions. An edit
    reaches nobody through @all (``mentions.deliver_edit``), so it needs no confirmation."""
    draft = Draft(editor, message.room_id, message.body, "", "", confirm_all=True)
    addressing = await mentions.load(unit.session, [draft])
    rendered = addressing.render(draft)
    if isinstance(rendered, Exception):
        raise rendered
    message.body_html, message.mentions = rendered
    await mentions.deliver_edit(unit.session, addressing, message)


async def edit_message(
    unit: Unit, editor: User, message_id: int, body: str, client_ip: str, *, window: timedelta
) -> MessageOut:
    """Replace a message's text, keeping the old one as a revision. The message as the editor
    now sees it. The same text again (after the checks posting makes) changes nothing."""
    message = await _changeable(unit, editor, message_id, window, _EDIT)
    stored = await _stored(unit, message_id)
    # As when posting: the text may be empty only if the message shows attachments.
    body = check_body(body, attached=bool(stored.attachments))
    if body != message.body:
        revision = _revision(message, _EDIT, editor, client_ip)
        unit.session.add(revision)
        message.body = body
        await _render_and_address(unit, editor, message)
        message.edited_at = revision.created_at
        await unit.session.flush()
        _audit(unit, message, revision, editor, client_ip)
        stored = await _stored(unit, message_id)
        names = (attachment.name for attachment in stored.attachments)
        await indexing.reindex_messages(
            unit.session, [(message_id, message.room_id, indexing.searchable_text(body, names))]
        )
        unit.emit(
            MessageEdited(room_id=message.room_id, message=_full(stored), revision_id=revision.id)
        )
    return message_out(stored, staff=editor.sees_client_ips, viewer_id=editor.id)


async def delete_message(
    unit: Unit, editor: User, message_id: int, client_ip: str, *, window: timedelta
) -> None:
    """Delete a message: gone for everyone but managers and administrators, who see its
    tombstone. Its text stays on the record."""
    message = await _changeable(unit, editor, message_id, window, _DELETE)
    revision = _revision(message, _DELETE, editor, client_ip)
    unit.session.add(revision)
    message.deleted_at, message.deleted_by_id = revision.created_at, editor.id
    await unit.session.flush()
    await indexing.unindex_messages(unit.session, [message_id])
    _audit(unit, message, revision, editor, client_ip)
    stored = await _stored(unit, message_id)
    unit.emit(MessageDeleted(room_id=message.room_id, message=_full(stored)))


async def message_history(unit: Unit, viewer: User, message_id: int) -> MessageHistory:
    """Every version of a message, the original first, with who made it, when and from
    where (managers and administrators who are members of its room; deleted ones too)."""
    if not viewer.sees_message_history:
        raise Forbidden(ONLY_STAFF_SEE_HISTORY)
    message = await queries.find_message(unit.session, message_id)
    if message is None or not await is_member(unit.session, message.room_id, viewer.id):
        raise NotFound(MESSAGE_NOT_FOUND)
    revisions = await queries.list_revisions(unit.session, message_id)
    # Each revision holds the text from before its change, so the text a change left is the
    # next revision's (or, for the last, the message's own).
    texts = [(revision.body, revision.body_html) for revision, _, _ in revisions]
    texts.append((message.body, message.body_html))
    author = AuthorOut(
        id=message.author_id,
        username=message.author_username,
        display_name=message.author_display_name,
    )
    versions = [
        MessageVersionOut(
            action="posted",
            body=texts[0][0],
            html=texts[0][1],
            editor=author,
            created_at=message.created_at,
            client_ip=message.client_ip,
        )
    ]
    for (revision, username, name), (body, html) in zip(revisions, texts[1:], strict=True):
        versions.append(
            MessageVersionOut(
                action=revision.action,  # type: ignore[arg-type]
                body=body,
                html=html,
                editor=AuthorOut(id=revision.editor_id, username=username, display_name=name),
                created_at=revision.created_at,
                client_ip=revision.editor_ip,
            )
        )
    return MessageHistory(message_id=message_id, versions=versions)


async def _changeable(
    unit: Unit, editor: User, message_id: int, window: timedelta, change: _Change
) -> Message:
    """The message, locked until the transaction ends (two edits never lose a revision), if
    ``editor`` may make ``change`` to it now."""
    message = await queries.lock_message(unit.session, message_id)
    if (
        message is None
        or message.deleted_at is not None
        or not await is_member(unit.session, message.room_id, editor.id)
    ):
        raise NotFound(MESSAGE_NOT_FOUND)
    room = await find_room(unit.session, message.room_id)
    if room is not None:
        check_open(room)  # an archived room is read-only, for administrators too
    if editor.edits_any_message:
        return message
    if message.author_id != editor.id:
        raise Forbidden(change.not_yours)
    if utcnow() - message.created_at > window:
        raise Forbidden(change.too_late, minutes=f"{window.total_seconds() / 60:g}")
    return message


def _revision(message: Message, change: _Change, editor: User, client_ip: str) -> MessageRevision:
    """The message as it is before ``change``."""
    return MessageRevision(
        message_id=message.id,
        action=change.action,
        body=message.body,
        body_html=message.body_html,
        editor_id=editor.id,
        editor_ip=client_ip,
        created_at=utcnow(),
    )


def _audit(
    unit: Unit, message: Message, revision: MessageRevision, editor: User, client_ip: str
) -> None:
    verb = "edit" if revision.action == _EDIT.action else "delete"
    record(
        unit,
        f"message.{verb}",
        actor_id=editor.id,
        target=f"message:{message.id}",
        client_ip=client_ip,
        room_id=message.room_id,
        author_id=message.author_id,
        revision_id=revision.id,
    )


async def _stored(unit: Unit, message_id: int) -> StoredMessage:
    """The message as the record holds it now, with its attachments."""
    stored = await queries.find_message(unit.session, message_id)
    if stored is None:
        raise RuntimeError("a message being changed is not there")
    (stored,) = await with_attachments(unit.session, [stored])
    return stored


def _full(stored: StoredMessage) -> dict[str, Any]:
    """The message with every field, for an event (each audience's frame is cut from it)."""
    full = message_out(stored, staff=True, viewer_id=stored.author_id)
    return full.model_dump(mode="json")
