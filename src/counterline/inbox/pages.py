"""The inbox page ("For me"): a server-rendered shell; static/js/inbox.js loads its items
from the inbox API (GET /api/v1/inbox) and the count from GET /api/v1/inbox/count."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.accounts import views as account_views
from counterline.accounts.guards import Identified
from counterline.deps import ServicesDep
from counterline.i18n import current_language
from counterline.web.client_strings import client_strings
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
async def inbox_page(request: Request, identity: Identified, services: ServicesDep) -> Response:
    """Messages for the reader: direct messages and mentions of her, her branch, role or all."""
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
    boot = {
        "me": me.model_dump(mode="json"),
        "csrf_token": identity.csrf_token,
        "time_zone": services.settings.time_zone,
        "language": current_language.get(),
        "strings": client_strings(),
    }
    return render(
        request,
        "inbox/inbox.html",
        {"identity": identity, "me": me, "boot_json": encode_for_page(boot)},
    )
