"""The admin console's landing page (/admin): a card for each section with a few counts;
and the site's logo (/site/logo), as set in the console."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from counterline.accounts import policy
from counterline.accounts import views as account_views
from counterline.accounts.actions import Identity
from counterline.accounts.guards import PUBLIC, role_guard
from counterline.accounts.models import User
from counterline.branches.models import Branch
from counterline.db import Unit
from counterline.deps import ServicesDep
from counterline.i18n import N_
from counterline.rooms.models import Room, RoomKind
from counterline.services import Services
from counterline.uploads.download import blob_response, head_of
from counterline.uploads.models import Upload
from counterline.uploads.sniffing import picture_type
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)

ONLY_ADMINS = N_("Only administrators can use the admin console.")
STANDARD_LOGO = "/static/favicon.svg"
# Every page's logo (app.css .logo) is this address: a change reaches open pages within a
# minute, and the login page too (the logo is public, as the site's name is).
LOGO_CACHE = "public, max-age=60"
ConsoleAdmin = Annotated[Identity, Depends(role_guard(policy.USES_ADMIN_CONSOLE, ONLY_ADMINS))]


async def console_context(
    unit: Unit, identity: Identity, services: Services, page: str
) -> dict[str, Any]:
    """What every console page's template starts from: the header's identity and ``me``,
    ``page`` for the console's navigation (admin/_console_nav.html) and the forms' token."""
    me = await account_views.describe(unit, identity.user, services.presence)
    return {
        "identity": identity,
        "me": me,
        "console_page": page,
        "csrf_token": identity.csrf_token,
    }


async def console_counts(db: AsyncSession) -> dict[str, int]:
    """Active users, branches and named rooms (conversations are not counted)."""
    users = await db.scalar(select(func.count()).select_from(User).where(User.active))
    branches = await db.scalar(
        select(func.count()).select_from(Branch).where(Branch.archived_at.is_(None))
    )
    rooms = await db.scalar(
        select(func.count())
        .select_from(Room)
        .where(Room.kind != RoomKind.conversation, Room.archived_at.is_(None))
    )
    return {"users": users or 0, "branches": branches or 0, "rooms": rooms or 0}


@router.get("/admin")
async def console_page(request: Request, identity: ConsoleAdmin, services: ServicesDep) -> Response:
    """The console's landing page: where each part of the console is, with counts."""
    async with services.reading() as unit:
        context = await console_context(unit, identity, services, "home")
        counts = await console_counts(unit.session)
    return render(request, "admin/console.html", {**context, "counts": counts})


@router.get("/site/logo", dependencies=[PUBLIC])
async def site_logo(services: ServicesDep) -> Response:
    """The logo set in the console (its thumbnail), else the standard one."""
    upload_id = services.site.site_logo
    upload = None
    if upload_id is not None:
        async with services.reading() as unit:
            upload = await unit.session.get(Upload, upload_id)
    if upload is None or upload.kind != "image" or upload.thumb_sha256 is None:
        response: Response = RedirectResponse(STANDARD_LOGO, status_code=307)
    else:
        response = blob_response(
            services.uploads.store,
            upload.thumb_sha256,
            name="logo",
            content_type=await _picture_type(services, upload),
        )
    response.headers["cache-control"] = LOGO_CACHE
    return response


async def _picture_type(services: Services, upload: Upload) -> str:
    if upload.thumb_sha256 == upload.blob_sha256:
        return upload.content_type
    head = await head_of(services.uploads.store, upload.thumb_sha256 or "")
    return picture_type(head) or "image/jpeg"
