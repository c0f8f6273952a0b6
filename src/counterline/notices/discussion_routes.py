"""Opening a notice's discussion thread: ``POST /api/v1/notices/{id}/discussion`` (the
room's id) and the notice page's button (``POST /notices/{id}/discussion``, then the room)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.responses import Response

from counterline.accounts.guards import Identified
from counterline.api_errors import error_responses
from counterline.deps import ServicesDep, check_form_token
from counterline.ids import Id
from counterline.notices.discussion import notice_discussed_in, open_discussion
from counterline.responses import json_of

api = APIRouter(tags=["notices"])
pages = APIRouter(include_in_schema=False)


class DiscussionOut(BaseModel):
    room_id: int
    url: str


@api.post(
    "/notices/{notice_id}/discussion",
    response_model=DiscussionOut,
    responses=error_responses(401, 403, 404, 422),
)
async def join_discussion(notice_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """Join the notice's discussion thread (made on first use): a room for its audience,
    its author and who oversees it, where questions get answers that can become FAQ
    entries. Answers the room to open."""
    async with services.transaction() as unit:
        room_id = await open_discussion(unit, identity.user, notice_id)
    return json_of(DiscussionOut(room_id=room_id, url=f"/rooms/{room_id}"))


@pages.get("/notices/discussion/{room_id}")
async def notice_of_discussion(
    room_id: Id, identity: Identified, services: ServicesDep
) -> Response:
    """From a discussion room back to its notice (the room page's link)."""
    async with services.reading() as unit:
        notice_id = await notice_discussed_in(unit, room_id)
    return RedirectResponse(f"/notices/{notice_id}", status_code=303)


@pages.post("/notices/{notice_id}/discussion")
async def open_discussion_page(
    request: Request,
    notice_id: Id,
    identity: Identified,
    services: ServicesDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    async with services.transaction() as unit:
        room_id = await open_discussion(unit, identity.user, notice_id)
    return RedirectResponse(f"/rooms/{room_id}", status_code=303)
