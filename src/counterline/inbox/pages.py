"""The inbox page ("For me"): a server-rendered shell; static/js/inbox.js loads its items
from the inbox API (GET /api/v1/inbox) and the count from GET /api/v1/inbox/count, and
listens to the stream to load them again when something may have arrived for the reader."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.accounts import views as account_views
from counterline.accounts.guards import Identified
from counterline.deps import ServicesDep
from counterline.i18n import current_language
from counterline.messages.queries import latest_message_id
from counterline.rooms import queries as room_queries
from counterline.rooms.models import RoomKind
from counterline.web.client_strings import client_strings
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
async def inbox_page(request: Request, identity: Identified, services: ServicesDep) -> Response:
    """Messages for the reader: direct messages and mentions of her, her branch, role or all."""
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        rooms = await room_queries.list_rooms_of(unit.session, identity.user.id)
        latest = await latest_message_id(unit.session)
    boot = {
        "me": me.model_dump(mode="json"),
        "csrf_token": identity.csrf_token,
        "time_zone": services.site.time_zone,
        "language": current_language.get(),
        "strings": client_strings(),
        # The stream (static/js/stream.js) from here on. A message in one of these rooms is
        # for the reader only if it mentions someone; in any other room (a conversation, or
        # one joined since) it may be a direct message.
        "last_message_id": latest,
        "heartbeat": {
            "ping_seconds": services.settings.client_ping_seconds,
            "pong_timeout_seconds": services.settings.client_pong_timeout_seconds,
        },
        "topic_room_ids": [room.id for room in rooms if room.kind != RoomKind.conversation],
    }
    return render(
        request,
        "inbox/inbox.html",
        {"identity": identity, "me": me, "boot_json": encode_for_page(boot)},
    )
