from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from operator import attrgetter
from typing import Any, cast
from zoneinfo import ZoneInfo

from counterline.accounts.models import User
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound, UserError
from counterline.i18n import N_
from counterline.messages import attachments, indexing, mentions, numbering, queries
from counterline.messages.events import MessagePosted
from counterline.messages.plain import page_json
from counterline.messages.queries import STORED_FIELDS, StoredMessage
from counterline.messages.schemas import (
    MAX_BODY_LENGTH,
    MessageOut,
    MessagePage,
    withheld_fields,
)
from counterline.rooms.actions import NOT_A_MEMBER, ROOM_ARCHIVED, check_member
from counterline.segmenter import index_terms

MAX_PAGE = 200
# No message predates the epoch, and day 1 in a zone east of UTC starts in year 0.
FIRST_DAY = date(1970, 1, 1)


def check_body(body: str, *, attached: bool = False) -> str:
    """The body as stored; it may be empty only when the message has attachments."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not body.strip() and not attached:
        raise UserError(N_("The message is empty."))
    if len(body) > MAX_BODY_LENGTH:
        raise UserError(
            N_("The message is too long: %(length)s characters, at most %(max)s."),
            length=len(body),
            max=MAX_BODY_LENGTH,
        )
    return body


def message_out(message: StoredMessage, *, staff: bool, viewer_id: int | None) -> MessageOut:
    """The message as ``viewer_id`` sees it (``withheld_fields``: the client id only if it
    is theirs, since another member could otherwise reuse it; the client IP only for staff)."""
    fields = _fields_of(message)
    for name in withheld_fields(staff=staff, author=viewer_id == message.author_id):
        fields[name] = None
    # Validated from a dict: pydantic's core does that faster than model_construct, and
    # pages of history build fifty of these per request.
    return MessageOut.model_validate(fields)


# MessageOut's fields that a StoredMessage holds under the same name (all but the nested
# author and branch, and html: body_html's new name): a new one needs no edit here.
_SAME_NAMED = tuple(
    name for name in MessageOut.model_fields if name not in ("author", "branch", "html")
)
_same_named_of = attrgetter(*_SAME_NAMED)


def _fields_of(message: StoredMessage) -> dict[str, Any]:
    """A stored message in MessageOut's shape, every field included."""
    shaped = dict(zip(_SAME_NAMED, _same_named_of(message), strict=True))
    shaped["author"] = {
        "id": message.author_id,
        "username": message.author_username,
        "display_name": message.author_display_name,
    }
    shaped["branch"] = {"id": message.branch_id, "name": message.branch_name}
    shaped["html"] = message.body_html
    return shaped


def posted_event(message: StoredMessage) -> MessagePosted:
    """One event for every member; what each may see is cut by ``withheld_fields`` (an event
    is nobody's own message: even the author's tabs get no client id)."""
    full = MessageOut.model_validate(_fields_of(message)).model_dump(mode="json")
    return MessagePosted(room_id=message.room_id, message=full)


@dataclass(frozen=True, slots=True)
class Draft:
    """A message as its author sent it, before it is on the record."""

    author: User
    room_id: int
    body: str
    client_id: str
    client_ip: str
    attachments: tuple[int, ...] = ()  # upload ids, in order (messages.attachments)
    confirm_all: bool = False  # @all in a large room was confirmed (messages.mentions)


Posted = tuple[MessageOut, bool]


async def post_message(
    unit: Unit,
    author: User,
    room_id: int,
    body: str,
    client_id: str,
    client_ip: str,
    attachments: Sequence[int] = (),
    *,
    confirm_all: bool = False,
) -> Posted:
    """Store a message on the record. Returns it and whether it is new.

    Idempotent on (author, client_id): a retry returns the stored message unchanged.
    """
    draft = Draft(author, room_id, body, client_id, client_ip, tuple(attachments), confirm_all)
    (outcome,) = await post_messages(unit, [draft])
    if isinstance(outcome, UserError):
        raise outcome
    return outcome


async def post_messages(unit: Unit, drafts: Sequence[Draft]) -> list[Posted | UserError]:
    """Store several messages in the unit's transaction, ids in the order given: one
    membership query and one insert for all of them. Each draft is answered on its own,
    as ``post_message`` would: a draft the user got wrong gets its error and writes
    nothing."""
    outcomes: list[Posted | UserError | None] = [None] * len(drafts)
    checked: list[Draft] = []
    for index, draft in enumerate(drafts):
        try:
            body = check_body(draft.body, attached=bool(draft.attachments))
            checked.append(replace(draft, body=body))
        except UserError as error:
            checked.append(draft)
            outcomes[index] = error
    # The branch comes from the database, not the request's (possibly cached) identity:
    # a clerk moved a second ago posts from her new branch.
    branches = await queries.find_author_branches_in_rooms(
        unit.session, ((draft.room_id, draft.author.id) for draft in checked)
    )
    # Mentions and direct messages: one query, for conversations and posts with an "@" (it
    # would find no one for the others: no query at all for a group of plain posts).
    addressing = await mentions.load(
        unit.session,
        (
            draft
            for index, draft in enumerate(checked)
            if outcomes[index] is None and _may_address(draft, branches)
        ),
    )
    rows: dict[int, dict[str, Any]] = {}
    for index, draft in enumerate(checked):
        if outcomes[index] is not None:
            continue
        branch = branches.get((draft.room_id, draft.author.id))
        if branch is None:
            outcomes[index] = NotFound(NOT_A_MEMBER)
        elif branch[2]:
            outcomes[index] = Forbidden(ROOM_ARCHIVED)
        else:
            rendered = addressing.render(draft)
            if isinstance(rendered, UserError):
                outcomes[index] = rendered
            else:
                rows[index] = _row(draft, branch[0], *rendered)
    # Attachments cost a query only when some draft has them: the plain post path is hot.
    attached = await _claim_attachments(unit, checked, rows, outcomes)
    # Segmenting is CPU work: done before the writers' lock, stored once ids are known.
    terms = _search_terms(rows, attached)
    await queries.serialise_writers(unit.session)
    await numbering.number(unit.session, rows.values())
    new_ids = await queries.insert_unless_posted(unit.session, list(rows.values()))
    stored = []
    indexed: list[indexing.TermsRow] = []
    for index, row in rows.items():
        draft = checked[index]
        message_id = new_ids.pop((draft.author.id, draft.client_id), None)
        if message_id is None:
            outcomes[index] = await _already_posted(unit, draft)
            continue
        branch_name = branches[draft.room_id, draft.author.id][1]
        message = _on_record(draft, message_id, row, branch_name)
        if index in attached:
            message = replace(message, attachments=attached[index])
        stored.append(message)
        indexed.append((message_id, draft.room_id, terms[index]))
        outcomes[index] = (_out_for_author(message, draft.author), True)
    await indexing.store_terms(unit.session, indexed)
    await numbering.settle(unit.session, rows.values(), stored)
    if attached:
        await attachments.link(
            unit.session,
            ((m.id, [a.id for a in m.attachments]) for m in stored if m.attachments),
        )
    await mentions.deliver(unit.session, addressing, stored)
    for message in sorted(stored, key=lambda message: message.id):
        unit.emit(posted_event(message))
    return cast(list[Posted | UserError], outcomes)


def _may_address(
    draft: Draft, branches: dict[tuple[int, int], tuple[int, str, bool, bool]]
) -> bool:
    """Whether the draft may reach someone's inbox: it is in a conversation, or has an "@"."""
    found = branches.get((draft.room_id, draft.author.id))
    return found is not None and (found[3] or "@" in draft.body)


async def _claim_attachments(
    unit: Unit,
    drafts: Sequence[Draft],
    rows: dict[int, dict[str, Any]],
    outcomes: list[Posted | UserError | None],
) -> dict[int, tuple[Any, ...]]:
    """The attachments of each draft about to be inserted that has any (by draft index);
    a draft whose attachments are refused gets its error and is not inserted."""
    wanted = [index for index in rows if drafts[index].attachments]
    if not wanted:
        return {}
    claims = await attachments.claim(
        unit.session,
        [(drafts[i].author.id, drafts[i].client_id, drafts[i].attachments) for i in wanted],
    )
    attached = {}
    for index, claim in zip(wanted, claims, strict=True):
        if isinstance(claim, UserError):
            outcomes[index] = claim
            del rows[index]
        else:
            attached[index] = claim
    return attached


def _search_terms(
    rows: dict[int, dict[str, Any]], attached: dict[int, tuple[Any, ...]]
) -> dict[int, list[str]]:
    """Each row's search terms (by draft index): its body and its attachments' names."""
    return {
        index: index_terms(
            indexing.searchable_text(row["body"], (a.name for a in attached.get(index, ())))
        )
        for index, row in rows.items()
    }


def _out_for_author(message: StoredMessage, author: User) -> MessageOut:
    return message_out(message, staff=author.sees_client_ips, viewer_id=author.id)


def _row(
    draft: Draft, branch_id: int, html: str, mentioned: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "room_id": draft.room_id,
        "author_id": draft.author.id,
        "author_branch_id": branch_id,
        "client_id": draft.client_id,
        "client_ip": draft.client_ip,
        "body": draft.body,
        "body_html": html,
        "mentions": mentioned or None,
        "created_at": utcnow(),
    }


def _on_record(
    draft: Draft, message_id: int, row: dict[str, Any], branch_name: str
) -> StoredMessage:
    """The message as the record now holds it: the row just inserted, with names."""
    inserted = {name: value for name, value in row.items() if name in STORED_FIELDS}
    return StoredMessage(
        **inserted,
        id=message_id,
        author_username=draft.author.username,
        author_display_name=draft.author.display_name,
        branch_id=row["author_branch_id"],
        branch_name=branch_name,
        edited_at=None,
        deleted_at=None,
    )


async def _already_posted(unit: Unit, draft: Draft) -> Posted | UserError:
    """A retry (or a second draft with the same client id): the stored message, if it is
    the same message."""
    existing = await queries.find_by_client_id(unit.session, draft.author.id, draft.client_id)
    if existing is None:
        raise RuntimeError("a client id conflicted but its message is not there")
    if existing.deleted_at is not None:
        return UserError(N_("This message has been deleted."), status_code=409)
    (existing,) = await attachments.with_attachments(unit.session, [existing])
    if (
        existing.room_id != draft.room_id
        or existing.body != draft.body
        or tuple(attachment.id for attachment in existing.attachments) != draft.attachments
    ):
        return UserError(
            N_("This client id was already used for another message."), status_code=409
        )
    return _out_for_author(existing, draft.author), False


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
    rows, more = await _page_of(unit, viewer, room_id, before, after, day, zone, limit)
    staff = viewer.sees_client_ips
    return MessagePage(
        messages=[message_out(message, staff=staff, viewer_id=viewer.id) for message in rows],
        has_more=more,
    )


async def list_messages_json(
    unit: Unit,
    viewer: User,
    room_id: int,
    *,
    before: int | None = None,
    after: int | None = None,
    day: date | None = None,
    zone: ZoneInfo,
    limit: int = 50,
    member_checked: bool = False,
) -> dict[str, Any]:
    """``list_messages`` in MessagePage's JSON shape, built without models (plain.py).
    ``member_checked``: the caller has seen, in this unit, that the viewer is a member."""
    if not member_checked:
        await check_member(unit, viewer, room_id)
    rows, more = await _page_of(unit, viewer, room_id, before, after, day, zone, limit)
    return page_json(rows, more=more, staff=viewer.sees_client_ips, viewer_id=viewer.id)


async def _page_of(
    unit: Unit,
    viewer: User,
    room_id: int,
    before: int | None,
    after: int | None,
    day: date | None,
    zone: ZoneInfo,
    limit: int,
) -> tuple[list[StoredMessage], bool]:
    """The page's messages, oldest first, and whether more exist in its direction; the
    viewer's membership checked before."""
    if sum(option is not None for option in (before, after, day)) > 1:
        raise UserError(N_("Use only one of before, after and day."))
    if day is not None and day < FIRST_DAY:
        raise UserError(N_("Choose a day from %(first)s on."), first=FIRST_DAY.isoformat())
    limit = max(1, min(limit, MAX_PAGE))
    # The staff audience (STAFF_ONLY fields) sees deleted messages as tombstones; for
    # everyone else they are gone.
    staff = viewer.sees_client_ips
    if after is not None:
        rows = await queries.list_after(unit.session, room_id, after, limit + 1, staff=staff)
        more, rows = len(rows) > limit, rows[:limit]
    elif day is not None:
        start = datetime.combine(day, time.min, tzinfo=zone)
        rows = await queries.list_since_time(unit.session, room_id, start, limit + 1, staff=staff)
        more, rows = len(rows) > limit, rows[:limit]
    else:
        rows = await queries.list_before(unit.session, room_id, before, limit + 1, staff=staff)
        more, rows = len(rows) > limit, rows[-limit:]
    return await attachments.with_page_attachments(unit.session, room_id, rows), more
