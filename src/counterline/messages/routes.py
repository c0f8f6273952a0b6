from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BeforeValidator

from counterline.accounts import policy
from counterline.accounts.actions import Identity
from counterline.accounts.guards import Identified, IdentifiedCaller, identified, role_guard
from counterline.api_errors import BODY_ERRORS, ErrorOut, error_responses
from counterline.conditional import conditional_json
from counterline.deps import (
    Caller,
    ClientIp,
    ServicesDep,
    caller_of,
    guard_api_write,
    media_type_of,
    services_of,
)
from counterline.ids import Id, IdOrZero, id_or_zero_of
from counterline.messages import actions, editing
from counterline.messages.actions import MAX_PAGE
from counterline.messages.rendering import render_body
from counterline.messages.schemas import (
    MessageEditIn,
    MessageHistory,
    MessageIn,
    MessageOut,
    MessagePage,
    PreviewIn,
    PreviewOut,
)
from counterline.responses import json_of
from counterline.site.values import SiteSettings

router = APIRouter(tags=["messages"])
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _written_as_a_day(value: object) -> object:
    """YYYY-MM-DD only, as the schema's ``format: date`` says: pydantic alone also takes
    a number as a Unix time (``day=0`` is 1970-01-01)."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return value
    raise ValueError("a day is written YYYY-MM-DD")


Day = Annotated[dt.date, BeforeValidator(_written_as_a_day)]


@router.get(
    "/rooms/{room_id}/messages",
    response_model=MessagePage,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_messages(
    request: Request,
    room_id: Id,
    identity: Identified,
    before: Annotated[
        IdOrZero | None, Query(description="Newest messages older than this id.")
    ] = None,
    after: Annotated[
        IdOrZero | None, Query(description="Oldest messages newer than this id.")
    ] = None,
    day: Annotated[
        Day | None, Query(description="From the start of this day on (1970-01-01 or later).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Response:
    """A page of a room's history, oldest first. Without options: the newest page.

    The answer carries an `ETag`: sent back in `If-None-Match`, it is answered 304 with no
    body while the page is unchanged (a tab reopening the room)."""
    return await _history_page(
        request, identity, room_id, before=before, after=after, day=day, limit=limit
    )


_QUICK_OPTIONS = frozenset({"before", "after", "limit"})
_PAGE_SIZES = range(1, MAX_PAGE + 1)


async def quick_list_messages(request: Request, room_text: str) -> Response | None:
    """``list_messages`` before FastAPI routes the request (web/quick_routes), for options
    written as plain numbers; None for anything else, which the route answers."""
    room_id = id_or_zero_of(room_text)
    query = request.query_params
    if not room_id or len(query.multi_items()) != len(query) or not set(query) <= _QUICK_OPTIONS:
        return None
    options = {name: id_or_zero_of(value) for name, value in query.items()}
    if None in options.values() or options.get("limit", MAX_PAGE) not in _PAGE_SIZES:
        return None
    return await _history_page(request, await identified(request), room_id, **options)


async def _history_page(
    request: Request, identity: Identity, room_id: int, **options: Any
) -> Response:
    services = services_of(request)
    async with services.quick_read() as unit:
        page = await actions.list_messages_json(
            unit, identity.user, room_id, zone=services.site.zone, **options
        )
    return conditional_json(request, page)


@router.post(
    "/rooms/{room_id}/messages",
    status_code=201,
    response_model=MessageOut,
    responses={
        200: {"model": MessageOut, "description": "A retry: already stored."},
        **error_responses(*BODY_ERRORS, 401, 403, 404, 409),
        429: {
            "model": ErrorOut,
            "description": "The server is saturated; retry with the same client_id.",
        },
    },
)
async def post_message(room_id: Id, new: MessageIn, caller: IdentifiedCaller) -> Response:
    """Post a message. Answers only after it is committed; safe to retry with the same client_id."""
    return await _post(caller, room_id, new)


async def quick_post_message(request: Request, room_text: str) -> Response | None:
    """``post_message`` before FastAPI routes the request (web/quick_routes), for a JSON
    body the schema takes; None for anything else, which the route answers."""
    room_id = id_or_zero_of(room_text)
    if not room_id or request.query_params or media_type_of(request) != "application/json":
        return None
    await guard_api_write(request)
    identity = await identified(request)
    try:
        new = MessageIn.model_validate(json.loads(await request.body()))
    except (ValueError, RecursionError):
        # Not JSON, nested too deep for the parser, or not what the schema takes: the route
        # says why.
        return None
    return await _post(caller_of(request, identity), room_id, new)


async def _post(caller: Caller, room_id: int, new: MessageIn) -> Response:
    message, created = await caller.services.writer.post(
        caller.identity.user,
        room_id,
        new.body,
        new.client_id,
        caller.ip,
        new.attachments,
        confirm_all=new.confirm_all,
    )
    return json_of(message, 201 if created else 200)


@router.post(
    "/messages/preview",
    response_model=PreviewOut,
    responses=error_responses(*BODY_ERRORS, 401, 403),
)
async def preview_message(draft: PreviewIn, identity: Identified) -> Response:
    """The HTML a message body would be shown as, rendered as posting would; nothing is stored."""
    return json_of(PreviewOut(html=render_body(actions.check_body(draft.body))))


HistoryReader = Annotated[
    Identity, Depends(role_guard(policy.SEES_MESSAGE_HISTORY, editing.ONLY_STAFF_SEE_HISTORY))
]


def _edit_window(site: SiteSettings) -> dt.timedelta:
    """The console's edit window, else the config file's."""
    return dt.timedelta(minutes=site.message_edit_minutes)


@router.patch(
    "/messages/{message_id}",
    response_model=MessageOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def edit_message(
    message_id: Id, edit: MessageEditIn, identity: Identified, services: ServicesDep, ip: ClientIp
) -> Response:
    """Change a message's text: your own within the edit window after posting
    (`message_edit_minutes`, default 15; the admin console may change it), any message at
    any time for administrators; you must be a member of its room (not archived). The
    previous text is kept in its history. Sending the same text again changes nothing.
    Tabs hear `message.edited`."""
    async with services.transaction() as unit:
        message = await editing.edit_message(
            unit, identity.user, message_id, edit.body, ip, window=_edit_window(services.site)
        )
    return json_of(message)


@router.delete("/messages/{message_id}", status_code=204, responses=error_responses(401, 403, 404))
async def delete_message(
    message_id: Id, identity: Identified, services: ServicesDep, ip: ClientIp
) -> Response:
    """Delete a message, under the same rules as editing. It disappears for everyone but
    managers and administrators, who keep seeing it as a tombstone. Tabs hear
    `message.deleted`."""
    async with services.transaction() as unit:
        await editing.delete_message(
            unit, identity.user, message_id, ip, window=_edit_window(services.site)
        )
    return Response(status_code=204)


@router.get(
    "/messages/{message_id}/history",
    response_model=MessageHistory,
    responses=error_responses(401, 403, 404),
)
async def message_history(
    message_id: Id, identity: HistoryReader, services: ServicesDep
) -> Response:
    """Every version of a message, the original first: what it said, who changed it, when
    and from which address (managers and administrators who are members of its room;
    deleted messages too)."""
    async with services.reading() as unit:
        history = await editing.message_history(unit, identity.user, message_id)
    return json_of(history)
