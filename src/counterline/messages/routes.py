from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response

from counterline.deps import ClientIp, IdentityDep, ServicesDep
from counterline.messages import actions
from counterline.messages.schemas import MessageIn, MessageOut, MessagePage
from counterline.responses import json_of

router = APIRouter(tags=["messages"])


@router.get("/rooms/{room_id}/messages", response_model=MessagePage, responses={404: {}})
async def list_messages(
    room_id: int,
    identity: IdentityDep,
    services: ServicesDep,
    before: Annotated[int | None, Query(description="Newest messages older than this id.")] = None,
    after: Annotated[int | None, Query(description="Oldest messages newer than this id.")] = None,
    day: Annotated[dt.date | None, Query(description="From the start of this day on.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """A page of a room's history, oldest first. Without options: the newest page."""
    async with services.reading() as unit:
        page = await actions.list_messages(
            unit,
            identity.user,
            room_id,
            before=before,
            after=after,
            day=day,
            zone=services.settings.zone,
            limit=limit,
        )
    return json_of(page)


@router.post(
    "/rooms/{room_id}/messages",
    status_code=201,
    response_model=MessageOut,
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
) -> Response:
    """Post a message. Answers only after it is committed; safe to retry with the same client_id."""
    async with services.admit_write():
        message, created = await services.writer.post(
            identity.user, room_id, new.body, new.client_id, ip
        )
    return json_of(message, 201 if created else 200)
