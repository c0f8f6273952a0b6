"""The console's "Branches and rooms" pages: /admin/branches (the branches and the rooms,
with forms to add, rename and archive) and /admin/rooms/{id} (a room's members). Plain
forms with the CSRF token: each change redirects back with a note of what was done; a
refusal shows the page again with the reason next to the form that caused it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from counterline.admin import places
from counterline.admin.console import ConsoleAdmin, console_context
from counterline.deps import ClientIp, ServicesDep, check_form_token
from counterline.errors import UserError
from counterline.i18n import N_, gettext
from counterline.ids import Id
from counterline.rooms.models import RoomKind, Visibility
from counterline.services import Services
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Form(max_length=200)]
Name = Annotated[str, Form(max_length=1000)]
Action = Annotated[str, Form(max_length=16)]

# What the page says after a change (``?done=``).
DONE = {
    "branch_added": N_("Branch added, with its room."),
    "branch_renamed": N_("Branch renamed; its room has the new name too."),
    "branch_archived": N_("Branch archived, with its room."),
    "branch_restored": N_("Branch restored, with its room."),
    "room_created": N_("Room created. Add its members on the room's page."),
    "room_renamed": N_("Room renamed."),
    "room_archived": N_("Room archived: read-only, out of the room lists, its history kept."),
    "room_restored": N_("Room opened again."),
    "member_added": N_("Member added."),
    "member_removed": N_("Member removed."),
}
KIND_LABELS = {
    RoomKind.company: N_("Company"),
    RoomKind.branch: N_("Branch"),
    RoomKind.topic: N_("Topic"),
    RoomKind.notice: N_("Notice discussion"),
}
VISIBILITY_LABELS = {
    Visibility.public: N_("Public"),
    Visibility.invite_only: N_("Invite only"),
}


def _done(code: str | None) -> str | None:
    message = DONE.get(code or "")
    return gettext(message) if message else None


async def _branches_page(
    request: Request,
    identity: Any,
    services: Services,
    *,
    done: str | None = None,
    error: UserError | None = None,
    error_at: str = "",
) -> Response:
    async with services.reading() as unit:
        context = await console_context(unit, identity, services, "branches")
        branches = await places.list_branches(unit)
        rooms = await places.list_rooms(unit)
    return render(
        request,
        "admin/branches.html",
        {
            **context,
            "branches": branches,
            "rooms": rooms,
            "kind_labels": {kind: gettext(label) for kind, label in KIND_LABELS.items()},
            "visibility_labels": {v: gettext(label) for v, label in VISIBILITY_LABELS.items()},
            "done": _done(done),
            "error": error.translated() if error else None,
            "error_at": error_at,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/admin/branches")
async def branches_page(
    request: Request, identity: ConsoleAdmin, services: ServicesDep, done: str | None = None
) -> Response:
    """The branches and every room but conversations, with their forms."""
    return await _branches_page(request, identity, services, done=done)


def _back(done: str, anchor: str, path: str = "/admin/branches") -> Response:
    return RedirectResponse(f"{path}?done={done}#{anchor}", status_code=303)


@router.post("/admin/branches")
async def add_branch_submit(
    request: Request,
    identity: ConsoleAdmin,
    services: ServicesDep,
    name: Name = "",
    csrf_token: Token = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    try:
        async with services.transaction() as unit:
            await places.add_branch(unit, identity.user, name)
    except UserError as refused:
        return await _branches_page(request, identity, services, error=refused, error_at="add")
    return _back("branch_added", "branches")


def _changes_of(action: str, name: str) -> dict[str, Any]:
    """What a branch's or room's form ``action`` asks of its change action."""
    return {
        "rename": {"name": name},
        "archive": {"archived": True},
        "restore": {"archived": False},
    }.get(action, {})


@router.post("/admin/branches/{branch_id}")
async def change_branch_submit(
    request: Request,
    branch_id: Id,
    identity: ConsoleAdmin,
    services: ServicesDep,
    ip: ClientIp,
    action: Action = "",
    name: Name = "",
    csrf_token: Token = "",
) -> Response:
    """``action``: rename (with ``name``), archive or restore."""
    check_form_token(request, csrf_token, identity.csrf_token)
    changes = _changes_of(action, name)
    try:
        async with services.transaction() as unit:
            await places.change_branch(unit, identity.user, branch_id, client_ip=ip, **changes)
    except UserError as refused:
        return await _branches_page(
            request, identity, services, error=refused, error_at=f"branch-{branch_id}"
        )
    done = {"rename": "branch_renamed", "archive": "branch_archived", "restore": "branch_restored"}
    return _back(done.get(action, ""), f"branch-{branch_id}")


@router.post("/admin/rooms")
async def create_room_submit(
    request: Request,
    identity: ConsoleAdmin,
    services: ServicesDep,
    ip: ClientIp,
    name: Name = "",
    visibility: Annotated[Visibility, Form()] = Visibility.invite_only,
    csrf_token: Token = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    try:
        async with services.transaction() as unit:
            room = await places.create_topic_room(
                unit, identity.user, name, visibility, client_ip=ip
            )
    except UserError as refused:
        return await _branches_page(request, identity, services, error=refused, error_at="add-room")
    return _back("room_created", "members", f"/admin/rooms/{room.id}")


@router.post("/admin/rooms/{room_id}")
async def change_room_submit(
    request: Request,
    room_id: Id,
    identity: ConsoleAdmin,
    services: ServicesDep,
    ip: ClientIp,
    action: Action = "",
    name: Name = "",
    csrf_token: Token = "",
) -> Response:
    """``action``: rename (with ``name``), archive or restore."""
    check_form_token(request, csrf_token, identity.csrf_token)
    changes = _changes_of(action, name)
    try:
        async with services.transaction() as unit:
            await places.change_room(unit, identity.user, room_id, client_ip=ip, **changes)
    except UserError as refused:
        return await _branches_page(
            request, identity, services, error=refused, error_at=f"room-{room_id}"
        )
    done = {"rename": "room_renamed", "archive": "room_archived", "restore": "room_restored"}
    return _back(done.get(action, ""), f"room-{room_id}")


async def _room_page(
    request: Request,
    identity: Any,
    services: Services,
    room_id: int,
    *,
    done: str | None = None,
    error: UserError | None = None,
) -> Response:
    async with services.reading() as unit:
        context = await console_context(unit, identity, services, "branches")
        room = await places.rooms.named_room(unit, room_id)
        members = await places.room_members(unit, identity.user, room.id)
        shown = await places.room_with_count(unit, room)
    return render(
        request,
        "admin/room_members.html",
        {
            **context,
            "room": shown,
            "members": members.members,
            "kind_label": gettext(KIND_LABELS[room.kind]),
            "done": _done(done),
            "error": error.translated() if error else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/admin/rooms/{room_id}")
async def room_page(
    request: Request,
    room_id: Id,
    identity: ConsoleAdmin,
    services: ServicesDep,
    done: str | None = None,
) -> Response:
    """A room's members; a topic room's can be added and removed here."""
    return await _room_page(request, identity, services, room_id, done=done)


@router.post("/admin/rooms/{room_id}/members")
async def add_member_submit(
    request: Request,
    room_id: Id,
    identity: ConsoleAdmin,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Token = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    try:
        async with services.transaction() as unit:
            await places.add_room_member(unit, identity.user, room_id, username)
    except UserError as refused:
        return await _room_page(request, identity, services, room_id, error=refused)
    return _back("member_added", "members", f"/admin/rooms/{room_id}")


@router.post("/admin/rooms/{room_id}/members/{user_id}/remove")
async def remove_member_submit(
    request: Request,
    room_id: Id,
    user_id: Id,
    identity: ConsoleAdmin,
    services: ServicesDep,
    ip: ClientIp,
    csrf_token: Token = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    try:
        async with services.transaction() as unit:
            await places.remove_room_member(unit, identity.user, room_id, user_id, client_ip=ip)
    except UserError as refused:
        return await _room_page(request, identity, services, room_id, error=refused)
    return _back("member_removed", "members", f"/admin/rooms/{room_id}")
