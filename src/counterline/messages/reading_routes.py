"""Read positions over the JSON API (messages/reading.py; docs/api.md, Read positions)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from counterline.accounts.guards import Identified
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ServicesDep
from counterline.ids import Id
from counterline.messages import reading
from counterline.responses import json_of
from counterline.rooms.schemas import ReadIn, ReadPositionOut, UnreadSummary

router = APIRouter(tags=["read positions"])


@router.post(
    "/rooms/read",
    response_model=UnreadSummary,
    responses=error_responses(*BODY_ERRORS, 401, 403),
)
async def mark_all_read(identity: Identified, services: ServicesDep) -> Response:
    """Mark every room and conversation of yours read up to its newest message. Every tab
    of yours hears `room.read` for each room that had unread messages."""
    async with services.transaction() as unit:
        summary = await reading.mark_all_read(unit, identity.user)
    return json_of(summary)


@router.post(
    "/rooms/{room_id}/read",
    response_model=ReadPositionOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def mark_read(
    room_id: Id, read: ReadIn, identity: Identified, services: ServicesDep
) -> Response:
    """Mark the room (or conversation) read up to message `up_to`. A read position never
    moves back: an older `up_to` changes nothing and answers the position as it is. 404
    if you are not a member, or `up_to` is not a message of this room. Every tab of yours
    hears `room.read` when the position moves."""
    position = await services.read_marker.mark(identity.user, room_id, read.up_to)
    return json_of(position)


@router.get("/unread", response_model=UnreadSummary, responses=error_responses(401, 403))
async def unread(identity: Identified, services: ServicesDep) -> Response:
    """Your rooms and conversations with unread messages, and how many in all (what was
    posted while you were away is counted here at your next login)."""
    async with services.quick_read() as unit:
        summary = await reading.unread_summary(unit, identity.user)
    return json_of(summary)
