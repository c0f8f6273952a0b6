"""The portal's pages: /portal for everyone signed in (static/js/portal.js draws the cards
from GET /api/v1/portal and asks again every minute), /admin/portal for administrators
(static/js/portal_admin.js, over /api/v1/admin/portal)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.accounts import views as account_views
from counterline.accounts.guards import AdminOnly, Identified
from counterline.accounts.models import Role
from counterline.deps import ServicesDep
from counterline.i18n import current_language, gettext
from counterline.portal import queries
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
REFRESH_SECONDS = 60


def _strings() -> dict[str, str]:
    return {
        "error": gettext("Something went wrong. Please try again."),
        "status_up": gettext("Up"),
        "status_slow": gettext("Slow"),
        "status_down": gettext("Unreachable"),
        "status_unknown": gettext("Not checked"),
        "checked_at": gettext("checked %(time)s"),
        "down_since": gettext("unreachable since %(time)s"),
        "client_hint": gettext(
            "Starts the program installed on this PC. If nothing happens, the program is "
            "not installed here: ask your administrator."
        ),
        "favourite_add": gettext("Add %(name)s to my favourites"),
        "favourite_remove": gettext("Remove %(name)s from my favourites"),
        "move_up": gettext("Move %(name)s up"),
        "move_down": gettext("Move %(name)s down"),
        "favourites": gettext("My favourites"),
        "other": gettext("Other systems"),
        "empty": gettext("No business systems have been set up for you yet."),
        "opens_new_tab": gettext("(opens in a new tab)"),
        "web": gettext("Web system"),
        "client": gettext("Client program"),
        "saved": gettext("Saved."),
        "deleted": gettext("Deleted."),
        "edit": gettext("Edit"),
        "delete": gettext("Delete"),
        "confirm_delete": gettext("Remove “%(name)s” from everyone's portal?"),
        "everyone": gettext("Everyone"),
        "inactive": gettext("Hidden"),
        "uploading": gettext("Uploading…"),
        "new_entry": gettext("New entry"),
        "edit_entry": gettext("Edit “%(name)s”"),
    }


def _boot(identity_csrf: str, services: ServicesDep, **extra: object) -> str:
    return encode_for_page(
        {
            "csrf_token": identity_csrf,
            "time_zone": services.site.time_zone,
            "language": current_language.get(),
            "refresh_seconds": REFRESH_SECONDS,
            "strings": _strings(),
            **extra,
        }
    )


@router.get("/portal")
async def portal_page(request: Request, identity: Identified, services: ServicesDep) -> Response:
    """The business systems of the reader's branch and role, grouped by category."""
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
    return render(
        request,
        "portal/portal.html",
        {"identity": identity, "me": me, "boot_json": _boot(identity.csrf_token, services)},
    )


@router.get("/admin/portal")
async def portal_admin_page(
    request: Request, identity: AdminOnly, services: ServicesDep
) -> Response:
    """The portal's entries, a form to add and edit them, and how client programs start."""
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        branches = await queries.list_branches(unit.session)
        rooms = await queries.list_notice_rooms(unit.session)
    roles = {
        Role.clerk: gettext("Clerks"),
        Role.trainer: gettext("Trainers"),
        Role.manager: gettext("Managers"),
        Role.admin: gettext("Administrators"),
    }
    boot = _boot(
        identity.csrf_token,
        services,
        branches={branch.id: branch.name for branch in branches},
        rooms={room.id: room.name for room in rooms},
    )
    return render(
        request,
        "portal/admin.html",
        {
            "identity": identity,
            "me": me,
            "console_page": "portal",
            "branches": branches,
            "rooms": rooms,
            "roles": roles,
            "boot_json": boot,
            "check_seconds": services.settings.portal_check_seconds,
        },
    )
