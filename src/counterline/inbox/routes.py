"""The inbox API (GET /api/v1/inbox, /inbox/count) and notification settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from counterline.accounts.guards import Identified
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ServicesDep
from counterline.ids import Id, IdOrZero
from counterline.inbox import actions
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
    identity: Identified,
    services: ServicesDep,
    unread: Annotated[bool, Query(description="Only unread items.")] = False,
    before: Annotated[
        IdOrZero | None, Query(description="Items older than this message id (`next_before`).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    """Everything addressed to you, newest first: direct messages, and mentions of you,
    your branch, your role or everyone, in rooms you are a member of (deleted messages
    left out). Each item names its message and room, to open it in context."""
    async with services.reading() as unit:
        page = await actions.inbox(
            unit, identity.user, before=before, unread_only=unread, limit=limit
        )
    return json_of(page)


@router.get("/inbox/count", response_model=InboxCount, responses=error_responses(401, 403))
async def inbox_count(identity: Identified, services: ServicesDep) -> Response:
    """How many items of your inbox are unread (for a badge)."""
    async with services.reading() as unit:
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
