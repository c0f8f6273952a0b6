"""The users console's pages: /admin/users (the table with its filters; each change is a
call to /api/v1/admin/users from static/js/admin_users.js) and /admin/users/import (choose
a file, preview, import with a progress bar: static/js/user_import.js)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.accounts.models import Role
from counterline.admin import users
from counterline.admin.console import console_context
from counterline.admin.user_queries import UserFilters
from counterline.admin.user_routes import UserAdmin, UserQuery
from counterline.branches.queries import list_branches
from counterline.deps import ServicesDep
from counterline.i18n import N_, gettext
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)

ROLE_LABELS = {
    Role.clerk: N_("Clerk"),
    Role.trainer: N_("Trainer"),
    Role.manager: N_("Manager"),
    Role.admin: N_("Administrator"),
}
# What the page's script says, in the page's language.
USER_STRINGS = {
    "failed": N_("That did not work. Please try again."),
    "confirm_deactivate": N_(
        "Deactivate %(name)s? They are logged out everywhere and cannot log in; their "
        "messages stay under their name."
    ),
    "confirm_reset": N_(
        "Give %(name)s a one-time password? Their current password stops working and they "
        "are logged out."
    ),
    "created_title": N_("User added"),
    "reset_title": N_("One-time password"),
    "one_time_for": N_(
        "One-time password of %(name)s (%(username)s). It is shown only now: hand it over; "
        "they choose their own at the first login."
    ),
    "unlocked": N_("%(name)s can try to log in again (%(count)s failed logins forgotten)."),
    "saved": N_("Saved."),
}
IMPORT_STRINGS = {
    "failed": N_("That did not work. Please try again."),
    "choose_file": N_("Choose a CSV file first."),
    "summary": N_("%(valid)s rows can be imported; %(invalid)s have errors (marked)."),
    "new_branches": N_("These branches will be created: %(names)s."),
    "progress": N_("%(done)s of %(total)s rows"),
    "finished": N_("Import finished: %(created)s users created, %(refused)s rows not imported."),
    "failed_import": N_("The import stopped: %(created)s users were created before it did."),
    "passwords_taken": N_("Downloaded. The server no longer keeps these passwords."),
}


def _strings(strings: dict[str, str]) -> dict[str, str]:
    return {key: gettext(value) for key, value in strings.items()}


def _page_url(filters: UserFilters, offset: int) -> str:
    parameters = {
        "q": filters.text,
        "branch_id": str(filters.branch_id) if filters.branch_id else None,
        "role": filters.role.value if filters.role else None,
        "active": None if filters.active is None else str(filters.active).lower(),
        "offset": str(offset) if offset else None,
    }
    kept = {key: value for key, value in parameters.items() if value}
    return "/admin/users" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/admin/users")
async def users_page(
    request: Request, filters: UserQuery, identity: UserAdmin, services: ServicesDep
) -> Response:
    """Every account, filtered by the form, with what an admin can do to each."""
    async with services.reading() as unit:
        context = await console_context(unit, identity, services, "users")
        page = await users.page_of_users(unit, filters)
        branches = await list_branches(unit.session)
    newer = filters.offset - filters.limit if filters.offset else None
    older = filters.offset + filters.limit
    boot = {"csrf_token": identity.csrf_token, "strings": _strings(USER_STRINGS)}
    return render(
        request,
        "admin/users.html",
        {
            **context,
            "filters": filters,
            "page": page,
            "branches": branches,
            "roles": [(role.value, gettext(label)) for role, label in ROLE_LABELS.items()],
            "role_label": {role.value: gettext(label) for role, label in ROLE_LABELS.items()},
            "newer_url": _page_url(filters, max(newer, 0)) if newer is not None else None,
            "older_url": _page_url(filters, older) if older < page.total else None,
            "boot_json": encode_for_page(boot),
        },
    )


@router.get("/admin/users/import")
async def import_page(request: Request, identity: UserAdmin, services: ServicesDep) -> Response:
    """Import users from a CSV file: preview, import with progress, passwords once."""
    async with services.reading() as unit:
        context = await console_context(unit, identity, services, "users")
    boot = {"csrf_token": identity.csrf_token, "strings": _strings(IMPORT_STRINGS)}
    return render(
        request, "admin/user_import.html", {**context, "boot_json": encode_for_page(boot)}
    )
