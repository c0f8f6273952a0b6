"""Room pages: the home redirect and a room's chat page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from counterline.accounts import views as account_views
from counterline.accounts.guards import Anyone, Identified
from counterline.db import Unit
from counterline.deps import ServicesDep
from counterline.errors import NotFound
from counterline.i18n import current_language
from counterline.ids import Id
from counterline.messages.actions import list_messages
from counterline.messages.queries import latest_message_id
from counterline.rooms import queries as room_queries
from counterline.rooms.actions import NOT_A_MEMBER, get_visible_room
from counterline.rooms.schemas import RoomOut
from counterline.services import Services
from counterline.web.client_strings import client_strings
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)


async def _directory_json(unit: Unit, services: Services) -> str:
    """The staff directory for the page, encoded at most once per cache period."""
    directory = services.directory.get()
    if directory is None:
        directory = encode_for_page(await account_views.list_directory(unit, services.presence))
        services.directory.put(directory)
    return directory


@router.get("/")
async def home(identity: Anyone, services: ServicesDep) -> Response:
    if identity is None:
        return RedirectResponse("/login", status_code=303)
    async with services.reading() as unit:
        rooms = await room_queries.list_rooms_of(unit.session, identity.user.id)
    if not rooms:
        raise NotFound(NOT_A_MEMBER)
    return RedirectResponse(f"/rooms/{rooms[0].id}", status_code=303)


@router.get("/rooms/{room_id}")
async def room_page(
    request: Request, room_id: Id, identity: Identified, services: ServicesDep
) -> Response:
    user = identity.user
    async with services.reading() as unit:
        room = await get_visible_room(unit, user, room_id)
        rooms = await room_queries.list_rooms_of(unit.session, user.id)
        joinable = await room_queries.list_joinable_rooms(unit.session, user.id)
        latest = await latest_message_id(unit.session)
        page = await list_messages(unit, user, room.id, zone=services.settings.zone)
        directory = await _directory_json(unit, services)
        me = await account_views.describe(unit, user, services.presence)
    boot = {
        "room": RoomOut.of(room).model_dump(mode="json"),
        "me": me.model_dump(mode="json"),
        "staff": user.sees_client_ips,
        "csrf_token": identity.csrf_token,
        "time_zone": services.settings.time_zone,
        "language": current_language.get(),
        "page": page.model_dump(mode="json"),
        "last_message_id": latest,
        "heartbeat": {
            "ping_seconds": services.settings.client_ping_seconds,
            "pong_timeout_seconds": services.settings.client_pong_timeout_seconds,
        },
        "strings": client_strings(),
    }
    return render(
        request,
        "rooms/room.html",
        {
            "identity": identity,
            "me": me,
            "room": room,
            "rooms": rooms,
            "joinable": joinable,
            "boot_json": encode_for_page(boot),
            "directory_json": directory,
        },
    )
