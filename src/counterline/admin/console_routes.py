"""The admin console over the JSON API (docs/api.md, Admin: branches, rooms and settings):
branches, rooms and their members, the site settings. Administrators only; every change
is audited."""

from __future__ import annotations

from fastapi import APIRouter, Response

from counterline.admin import places
from counterline.admin.console import ConsoleAdmin
from counterline.admin.console_schemas import (
    AdminRoomIn,
    AdminRoomList,
    AdminRoomOut,
    AdminRoomPatch,
    BranchIn,
    BranchList,
    BranchOut,
    BranchPatch,
    RoomMemberIn,
    RoomMemberList,
    SettingsIn,
    SettingsOut,
    SettingsRefusedOut,
)
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ClientIp, ServicesDep
from counterline.ids import Id
from counterline.responses import json_of, json_of_plain
from counterline.services import Services
from counterline.site import actions as site_actions

router = APIRouter(prefix="/admin", tags=["admin console"])


@router.get("/branches", response_model=BranchList, responses=error_responses(401, 403))
async def list_branches(identity: ConsoleAdmin, services: ServicesDep) -> Response:
    """Every branch, archived ones too, with its number of active users and its room."""
    async with services.reading() as unit:
        branches = await places.list_branches(unit)
    return json_of(BranchList(branches=branches))


@router.post(
    "/branches",
    status_code=201,
    response_model=BranchOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 409),
)
async def add_branch(new: BranchIn, identity: ConsoleAdmin, services: ServicesDep) -> Response:
    """Add a branch and its room (named after it). Names are unique: 400 if a branch has
    it, 409 if a room has it."""
    async with services.transaction() as unit:
        branch = await places.add_branch(unit, identity.user, new.name)
        out = await places.branch_out(unit, branch)
    return json_of(out, status_code=201)


@router.patch(
    "/branches/{branch_id}",
    response_model=BranchOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
async def change_branch(
    branch_id: Id, change: BranchPatch, identity: ConsoleAdmin, services: ServicesDep, ip: ClientIp
) -> Response:
    """Rename a branch (its room takes the name) and/or archive it (`archived: true`:
    refused with 409 while it has active users; its room is archived with it) or bring it
    back (`archived: false`)."""
    async with services.transaction() as unit:
        branch = await places.change_branch(
            unit, identity.user, branch_id, name=change.name, archived=change.archived, client_ip=ip
        )
        out = await places.branch_out(unit, branch)
    return json_of(out)


@router.get("/rooms", response_model=AdminRoomList, responses=error_responses(401, 403))
async def list_rooms(identity: ConsoleAdmin, services: ServicesDep) -> Response:
    """Every room but conversations: the company room, branch rooms, topic rooms, archived
    ones too, each with its number of members."""
    async with services.reading() as unit:
        rooms = await places.list_rooms(unit)
    return json_of(AdminRoomList(rooms=rooms))


@router.post(
    "/rooms",
    status_code=201,
    response_model=AdminRoomOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 409),
)
async def create_room(
    new: AdminRoomIn, identity: ConsoleAdmin, services: ServicesDep, ip: ClientIp
) -> Response:
    """Create a topic room (invite-only unless `visibility` is `public`); you are its
    first member. 409 if a room has the name."""
    async with services.transaction() as unit:
        room = await places.create_topic_room(
            unit, identity.user, new.name, new.visibility, client_ip=ip
        )
        out = await places.room_with_count(unit, room)
    return json_of(out, status_code=201)


@router.patch(
    "/rooms/{room_id}",
    response_model=AdminRoomOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
async def change_room(
    room_id: Id, change: AdminRoomPatch, identity: ConsoleAdmin, services: ServicesDep, ip: ClientIp
) -> Response:
    """Rename a topic room and/or archive it (`archived: true`: read-only, posts and edits
    refused with 403, gone from its members' room lists, its history kept and readable)
    or open it again (`archived: false`). Branch rooms follow their branch; the company
    room is never archived."""
    async with services.transaction() as unit:
        room = await places.change_room(
            unit, identity.user, room_id, name=change.name, archived=change.archived, client_ip=ip
        )
        out = await places.room_with_count(unit, room)
    return json_of(out)


@router.get(
    "/rooms/{room_id}/members",
    response_model=RoomMemberList,
    responses=error_responses(401, 403, 404, 422),
)
async def list_room_members(room_id: Id, identity: ConsoleAdmin, services: ServicesDep) -> Response:
    """Every member of a room (not a conversation), deactivated users too."""
    async with services.reading() as unit:
        members = await places.room_members(unit, identity.user, room_id)
    return json_of(members)


@router.post(
    "/rooms/{room_id}/members",
    response_model=RoomMemberList,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def add_room_member(
    room_id: Id, new: RoomMemberIn, identity: ConsoleAdmin, services: ServicesDep
) -> Response:
    """Add a user (by username) to a topic room; the answer is the room's members. Members
    of company and branch rooms are set by their branch (400); an archived room takes
    no one (403)."""
    async with services.transaction() as unit:
        await places.add_room_member(unit, identity.user, room_id, new.username)
        members = await places.room_members(unit, identity.user, room_id)
    return json_of(members)


@router.delete(
    "/rooms/{room_id}/members/{user_id}",
    status_code=204,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def remove_room_member(
    room_id: Id, user_id: Id, identity: ConsoleAdmin, services: ServicesDep, ip: ClientIp
) -> Response:
    """Take a user out of a topic room (their tabs hear `room.left`)."""
    async with services.transaction() as unit:
        await places.remove_room_member(unit, identity.user, room_id, user_id, client_ip=ip)
    return Response(status_code=204)


def settings_out(services: Services) -> SettingsOut:
    site = services.site
    effective = site.effective()
    return SettingsOut(
        site_name=effective.site_name,
        site_logo=effective.site_logo,
        default_language=effective.default_language,
        time_zone=effective.time_zone,
        message_edit_minutes=effective.message_edit_minutes,
        max_upload_mb=effective.max_upload_mb,
        retention_days=effective.retention_days,
        from_console=sorted(effective.from_console),
        config=site.config_values(),
    )


async def reload_settings(services: Services) -> None:
    """This server's copy at once; the other servers within ``REFRESH_SECONDS``."""
    async with services.reading() as unit:
        await services.site.load(unit)


@router.get("/settings", response_model=SettingsOut, responses=error_responses(401, 403))
async def read_settings(identity: ConsoleAdmin, services: ServicesDep) -> Response:
    """The site settings in effect: those set in the console (`from_console`) override the
    config file's (`config`)."""
    await reload_settings(services)
    return json_of(settings_out(services))


@router.put(
    "/settings",
    response_model=SettingsOut,
    responses={
        **error_responses(401, 403, 413, 422),
        400: {"model": SettingsRefusedOut, "description": "Values that cannot be used."},
    },
)
async def change_settings(
    change: SettingsIn, identity: ConsoleAdmin, services: ServicesDep, ip: ClientIp
) -> Response:
    """Change site settings: those sent (`null` or "" puts the config file's value back),
    the others stay. Every server uses them within a minute, without a restart. A value
    that cannot be used is a 400 whose `fields` says what is wrong with each; nothing is
    changed then. Audited (`settings.changed`) with the values before and after."""
    changes = {key: getattr(change, key) for key in change.model_fields_set}
    try:
        async with services.transaction() as unit:
            await site_actions.change_settings(unit, identity.user, changes, client_ip=ip)
    except site_actions.SettingsInvalid as refused:
        return json_of_plain({"error": refused.translated(), "fields": refused.fields()}, 400)
    await reload_settings(services)
    return json_of(settings_out(services))
