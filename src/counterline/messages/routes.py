from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator

from counterline.accounts.guards import Identified
from counterline.api_errors import BODY_ERRORS, ErrorOut, error_responses
from counterline.deps import ClientIp, ServicesDep
from counterline.ids import Id, IdOrZero
from counterline.messages import actions
from counterline.messages.schemas import MessageIn, MessageOut, MessagePage
from counterline.responses import json_of

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
    room_id: Id,
    identity: Identified,
    services: ServicesDep,
    before: Annotated[
        IdOrZero | None, Query(description="Newest messages older than this id.")
    ] = None,
    after: Annotated[
        IdOrZero | None, Query(description="Oldest messages newer than this id.")
    ] = None,
    day: Annotated[
        Day | None, Query(description="From the start of this day on (1970-01-01 or later).")
    ] = None,
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
        **error_responses(*BODY_ERRORS, 401, 403, 404, 409),
        429: {
            "model": ErrorOut,
            "description": "The server is saturated; retry with the same client_id.",
        },
    },
)
async def post_message(
    room_id: Id,
    new: MessageIn,
    identity: Identified,
    services: ServicesDep,
    ip: ClientIp,
) -> Response:
    """Post a message. Answers only after it is committed; safe to retry with the same client_id."""
    message, created = await services.writer.post(
        identity.user, room_id, new.body, new.client_id, ip
    )
    return json_of(message, 201 if created else 200)
