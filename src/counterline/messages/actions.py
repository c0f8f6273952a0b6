from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from counterline.accounts.models import User
from counterline.db import Unit, utcnow
from counterline.errors import NotFound, UserError
from counterline.i18n import N_
from counterline.messages import queries
from counterline.messages.events import MessagePosted
from counterline.messages.queries import StoredMessage
from counterline.messages.rendering import render_body
from counterline.messages.schemas import AuthorOut, BranchRef, MessageOut, MessagePage
from counterline.rooms.actions import NOT_A_MEMBER, check_member

MAX_BODY_LENGTH = 10_000
MAX_PAGE = 200


def check_body(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not body.strip():
        raise UserError(N_("The message is empty."))
    if len(body) > MAX_BODY_LENGTH:
        raise UserError(
            N_("The message is too long: %(length)s characters, at most %(max)s."),
            length=len(body),
            max=MAX_BODY_LENGTH,
        )
    return body


def message_out(message: StoredMessage, *, staff: bool) -> MessageOut:
    return MessageOut(
        id=message.id,
        room_id=message.room_id,
        client_id=message.client_id,
        author=AuthorOut(
            id=message.author_id,
            username=message.author_username,
            display_name=message.author_display_name,
        ),
        branch=BranchRef(id=message.branch_id, name=message.branch_name),
        body=message.body,
        body_html=message.body_html,
        created_at=message.created_at,
        client_ip=message.client_ip if staff else None,
    )


def posted_event(message: StoredMessage) -> MessagePosted:
    full = message_out(message, staff=True)
    return MessagePosted(room_id=message.room_id, message=full.model_dump(mode="json"))


async def post_message(
    unit: Unit, author: User, room_id: int, body: str, client_id: str, client_ip: str
) -> tuple[MessageOut, bool]:
    """Store a message on the record. Returns it and whether it is new.

    Idempotent on (author, client_id): a retry returns the stored message unchanged.
    """
    # The branch comes from the database, not the request's (possibly cached) identity:
    # a clerk moved a second ago posts from her new branch.
    branch = await queries.find_author_branch_in_room(unit.session, room_id, author.id)
    if branch is None:
        raise NotFound(NOT_A_MEMBER)
    body = check_body(body)
    await queries.serialise_writers(unit.session)
    branch_id, branch_name = branch
    row = {
        "room_id": room_id,
        "author_id": author.id,
        "author_branch_id": branch_id,
        "client_id": client_id,
        "client_ip": client_ip,
        "body": body,
        "body_html": render_body(body),
        "created_at": utcnow(),
    }
    message_id = await queries.insert_unless_posted(unit.session, row)
    if message_id is None:
        return await _already_posted(unit, author, room_id, body, client_id), False
    message = StoredMessage(
        id=message_id,
        room_id=room_id,
        client_id=client_id,
        client_ip=client_ip,
        body=body,
        body_html=row["body_html"],
        created_at=row["created_at"],
        author_id=author.id,
        author_username=author.username,
        author_display_name=author.display_name,
        branch_id=branch_id,
        branch_name=branch_name,
    )
    unit.emit(posted_event(message))
    return message_out(message, staff=author.sees_client_ips), True


async def _already_posted(
    unit: Unit, author: User, room_id: int, body: str, client_id: str
) -> MessageOut:
    existing = await queries.find_by_client_id(unit.session, author.id, client_id)
    assert existing is not None
    if existing.room_id != room_id or existing.body != body:
        raise UserError(N_("This client id was already used for another message."), status_code=409)
    return message_out(existing, staff=author.sees_client_ips)


async def list_messages(
    unit: Unit,
    viewer: User,
    room_id: int,
    *,
    before: int | None = None,
    after: int | None = None,
    day: date | None = None,
    zone: ZoneInfo,
    limit: int = 50,
) -> MessagePage:
    """A page of a room's history: newest (default), before/after an id, or from a day on."""
    await check_member(unit, viewer, room_id)
    if sum(option is not None for option in (before, after, day)) > 1:
        raise UserError(N_("Use only one of before, after and day."))
    limit = max(1, min(limit, MAX_PAGE))
    if after is not None:
        rows = await queries.list_after(unit.session, room_id, after, limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
    elif day is not None:
        start = datetime.combine(day, time.min, tzinfo=zone)
        rows = await queries.list_since_time(unit.session, room_id, start, limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
    else:
        rows = await queries.list_before(unit.session, room_id, before, limit + 1)
        more, rows = len(rows) > limit, rows[-limit:]
    staff = viewer.sees_client_ips
    return MessagePage(
        messages=[message_out(message, staff=staff) for message in rows], has_more=more
    )
