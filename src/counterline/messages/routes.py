from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response

from counterline.deps import ClientIp, IdentityDep, ServicesDep
from counterline.messages import actions
from counterline.messages.schemas import MessageIn, MessageOut, MessagePage

router = APIRouter(tags=["messages"])


@router.get("/rooms/{room_id}/messages", responses={404: {}})
async def list_messages(
    room_id: int,
    identity: IdentityDep,
    services: ServicesDep,
    before: Annotated[int | None, Query(description="Newest messages older than this id.")] = None,
    after: Annotated[int | None, Query(description="Oldest messages newer than this id.")] = None,
    day: Annotated[dt.date | None, Query(description="From the start of this day on.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """A page of a room's history, oldest first. Without options: the newest page."""
    async with services.reading() as unit:
        return await actions.list_messages(
            unit,
            identity.user,
            room_id,
            before=before,
            after=after,
            day=day,
            zone=services.settings.zone,
            limit=limit,
        )


@router.post(
    "/rooms/{room_id}/messages",
    status_code=201,
    responses={
        200: {"model": MessageOut, "description": "A retry: already stored."},
        400: {},
        404: {},
        409: {},
        429: {"description": "The server is saturated; retry with the same client_id."},
    },
)
async def post_message(
    room_id: int,
    new: MessageIn,
    identity: IdentityDep,
    services: ServicesDep,
    ip: ClientIp,
    response: Response,
) -> MessageOut:
    """Post a message. Answers only after it is committed; safe to retry with the same client_id."""
    async with services.admit_write():
        message, created = await services.writer.post(
            identity.user, room_id, new.body, new.client_id, ip
        )
    if not created:
        response.status_code = 200
    return message
