"""The inbox API (GET /api/v1/inbox, /inbox/count) and notification settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from counterline.accounts.actions import Identity
from counterline.accounts.guards import Identified, identified
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.conditional import conditional_json
from counterline.deps import ServicesDep, services_of
from counterline.ids import Id, IdOrZero, id_or_zero_of
from counterline.inbox import actions
from counterline.inbox.actions import MAX_PAGE
from counterline.inbox.schemas import (
    InboxCount,
    InboxPage,
    MuteIn,
    MuteOut,
    NotificationSettingsIn,
    NotificationSettingsOut,
)
from counterline.responses import json_of

router = APIRouter(tags=["inbox"])


@router.get("/inbox", response_model=InboxPage, responses=error_responses(401, 403, 422))
async def inbox(
    request: Request,
    identity: Identified,
    unread: Annotated[bool, Query(description="Only unread items.")] = False,
    before: Annotated[
        IdOrZero | None, Query(description="Items older than this message id (`next_before`).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Response:
    """Everything addressed to you, newest first: direct messages, and mentions of you,
    your branch, your role or everyone, in rooms you are a member of (deleted messages
    left out). Each item names its message and room, to open it in context.

    The answer carries an `ETag`: sent back in `If-None-Match`, it is answered 304 with no
    body while the page is unchanged."""
    return await _inbox_page(request, identity, unread, before, limit)


_QUICK_OPTIONS = frozenset({"unread", "before", "limit"})
_WRITTEN_PLAINLY = {"true": True, "false": False}
_PAGE_SIZES = range(1, MAX_PAGE + 1)


async def quick_inbox(request: Request) -> Response | None:
    """``inbox`` before FastAPI routes the request (web/quick_routes), for options written
    plainly (``unread`` true or false, numbers); None for anything else, which the route
    answers."""
    query = request.query_params
    if len(query.multi_items()) != len(query) or not set(query) <= _QUICK_OPTIONS:
        return None
    unread = _WRITTEN_PLAINLY.get(query.get("unread", "false"))
    before = id_or_zero_of(query["before"]) if "before" in query else None
    limit = id_or_zero_of(query.get("limit", "50"))
    if unread is None or ("before" in query and before is None) or limit not in _PAGE_SIZES:
        return None
    return await _inbox_page(request, await identified(request), unread, before, limit)


async def _inbox_page(
    request: Request, identity: Identity, unread: bool, before: int | None, limit: int
) -> Response:
    async with services_of(request).quick_read() as unit:
        page = await actions.inbox(
            unit, identity.user, before=before, unread_only=unread, limit=limit
        )
    return conditional_json(request, page)


@router.get("/inbox/count", response_model=InboxCount, responses=error_responses(401, 403))
async def inbox_count(request: Request, identity: Identified) -> Response:
    """How many items of your inbox are unread (for a badge)."""
    return await _inbox_count(request, identity)


async def quick_inbox_count(request: Request) -> Response:
    """``inbox_count`` before FastAPI routes the request (web/quick_routes)."""
    return await _inbox_count(request, await identified(request))


async def _inbox_count(request: Request, identity: Identity) -> Response:
    async with services_of(request).quick_read() as unit:
        count = await actions.unread_count(unit, identity.user)
    return json_of(InboxCount(unread=count))


@router.get(
    "/account/notifications",
    response_model=NotificationSettingsOut,
    responses=error_responses(401, 403),
)
async def notification_settings(identity: Identified, services: ServicesDep) -> Response:
    """Your desktop notification settings."""
    async with services.reading() as unit:
        settings = await actions.notification_settings(unit, identity.user)
    return json_of(settings)


@router.put(
    "/account/notifications",
    response_model=NotificationSettingsOut,
    responses=error_responses(*BODY_ERRORS, 401, 403),
)
async def change_notification_settings(
    change: NotificationSettingsIn, identity: Identified, services: ServicesDep
) -> Response:
    """Change your desktop notification settings; a field left out stays as it is."""
    async with services.transaction() as unit:
        settings = await actions.change_notification_settings(unit, identity.user, change)
    return json_of(settings)


@router.put(
    "/rooms/{room_id}/mute",
    response_model=MuteOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def mute_room(
    room_id: Id, change: MuteIn, identity: Identified, services: ServicesDep
) -> Response:
    """Mute or unmute a room you are a member of: no desktop notifications from it (its
    messages still count as unread and still reach your inbox)."""
    async with services.transaction() as unit:
        out = await actions.mute_room(unit, identity.user, room_id, change.muted)
    return json_of(out)
