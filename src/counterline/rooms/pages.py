"""Room pages: the home redirect, a room's chat page, and the offer to join a public room."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from counterline.accounts import policy
from counterline.accounts import queries as account_queries
from counterline.accounts import views as account_views
from counterline.accounts.actions import Identity
from counterline.accounts.guards import Anyone, Identified, identified
from counterline.deps import ServicesDep, check_form_token, services_of
from counterline.errors import NotFound
from counterline.i18n import current_language
from counterline.ids import Id, id_or_zero_of
from counterline.messages.actions import list_messages_json
from counterline.messages.mentions import ALL_TOKENS
from counterline.messages.queries import latest_message_id
from counterline.rooms import queries as room_queries
from counterline.rooms.actions import NOT_A_MEMBER, get_visible_room, join_room, room_to_join
from counterline.rooms.conversations import room_list_of
from counterline.rooms.models import RoomKind
from counterline.rooms.schemas import RoomOut
from counterline.services import Services
from counterline.web.client_strings import client_strings
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=16)
def _client_strings(language: str) -> dict[str, str]:
    """The page's translated script strings, once per language (a hundred-odd lookups);
    ``language`` is the current one, the key under which client_strings reads them."""
    return client_strings()


@router.get("/")
async def home(identity: Anyone, services: ServicesDep) -> Response:
    if identity is None:
        return RedirectResponse("/login", status_code=303)
    async with services.reading() as unit:
        rooms = await room_queries.list_rooms_of(unit.session, identity.user.id)
    if not rooms:
        raise NotFound(NOT_A_MEMBER)
    return RedirectResponse(f"/rooms/{rooms[0].id}", status_code=303)


async def _join_offer(
    request: Request, identity: Identity, services: Services, room_id: int
) -> Response:
    """For a public topic room the user isn't in, a page offering to join it; else 404."""
    async with services.reading() as unit:
        room = await room_to_join(unit, room_id)
        member_count = await room_queries.count_members(unit.session, room.id)
    return render(
        request,
        "rooms/join.html",
        {"identity": identity, "room": room, "member_count": member_count},
    )


@router.get("/rooms/{room_id}")
async def room_page(
    request: Request, room_id: Id, identity: Identified, services: ServicesDep
) -> Response:
    """A room's chat page; for a public topic room the user isn't in, the offer to join it.
    A malformed id (``/rooms/abc``, ``/rooms/0``) gets app.py's HTML 404 page."""
    return await _room_page(request, room_id, identity, services)


async def quick_room_page(request: Request, room_text: str) -> Response | None:
    """``room_page`` before FastAPI routes the request (web/quick_routes): the first thing
    every clerk opens. A malformed id is the route's."""
    room_id = id_or_zero_of(room_text)
    if not room_id:
        return None
    return await _room_page(request, room_id, await identified(request), services_of(request))


async def _room_page(
    request: Request, room_id: int, identity: Identity, services: Services
) -> Response:
    user = identity.user
    # One quick read for the whole page (the first thing a thousand clerks open at once).
    async with services.quick_read() as unit:
        shown_rooms = await room_list_of(unit, services.room_cards, user.id)
        shown = next((out for out in shown_rooms if out["id"] == room_id), None)
        # A room in her list is hers; one that isn't may be an archived room she still reads.
        member = shown is not None or await room_queries.is_member(unit.session, room_id, user.id)
        if member:
            notify = await account_queries.notification_settings(unit.session, user.id)
            level, sound = notify or ("mentions", False)
            member_count = await room_queries.count_members(unit.session, room_id)
            joinable = await room_queries.list_joinable_rooms(unit.session, user.id)
            latest = await latest_message_id(unit.session)
            page = await list_messages_json(
                unit, user, room_id, zone=services.site.zone, member_checked=True
            )
            me = await account_views.describe(unit, user, services.presence)
    if not member:
        return await _join_offer(request, identity, services, room_id)
    archived = shown is None
    if archived:  # not in the room list; its members still read it here
        async with services.reading() as unit:
            room = await get_visible_room(unit, user, room_id)
        shown = RoomOut.of(room).model_dump(mode="json")
    boot = {
        "room": shown,
        "member_count": member_count,
        "me": me.model_dump(mode="json"),
        # Desktop notifications (GET/PUT /api/v1/account/notifications); mentions of me:
        # MessageOut.mentions against me.id, me.branch_id and me.role.
        "notifications": {"level": level, "sound": sound},
        "staff": user.sees_client_ips,
        # Editing and deleting (messages/editing.py): own messages within the window.
        "edit_window_seconds": services.site.message_edit_minutes * 60,
        "edits_any_message": user.edits_any_message,
        "sees_message_history": user.sees_message_history,
        # The "Export record" dialog (exports/, static/js/record_export.js).
        "exports_record": policy.exports_record(user.role),
        "csrf_token": identity.csrf_token,
        "time_zone": services.site.time_zone,
        "language": current_language.get(),
        "page": page,
        "last_message_id": latest,
        "heartbeat": {
            "ping_seconds": services.settings.client_ping_seconds,
            "pong_timeout_seconds": services.settings.client_pong_timeout_seconds,
        },
        "strings": _client_strings(current_language.get()),
        "max_upload_bytes": services.site.max_upload_bytes,
        "mention_all_tokens": ALL_TOKENS,
        "link_preview_hosts": services.settings.link_preview_hosts,
    }
    return render(
        request,
        "rooms/room.html",
        {
            "identity": identity,
            "me": me,
            "room": shown,
            "room_archived": archived,
            "rooms": [out for out in shown_rooms if out["kind"] != RoomKind.conversation],
            "conversations": [out for out in shown_rooms if out["kind"] == RoomKind.conversation],
            "member_count": member_count,
            "joinable": joinable,
            "boot_json": encode_for_page(boot),
            "exports_record": policy.exports_record(user.role),
            "views_audit_log": policy.views_audit_log(user.role),
        },
    )


@router.post("/rooms/{room_id}/join")
async def join_submit(
    request: Request,
    room_id: Id,
    identity: Identified,
    services: ServicesDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The join page's form: join the public topic room, then land in it."""
    check_form_token(request, csrf_token, identity.csrf_token)
    async with services.transaction() as unit:
        room = await join_room(unit, identity.user, room_id)
    return RedirectResponse(f"/rooms/{room.id}", status_code=303)
