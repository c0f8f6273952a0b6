"""Branches and rooms in the admin console: what the API and the page share. A branch's
room follows it (renamed and archived with it); topic rooms are created, renamed, archived
and given members here. The changes themselves, and their audit entries, are the
``branches`` and ``rooms`` actions'."""

from __future__ import annotations

from sqlalchemy import func, select

from counterline.accounts import policy
from counterline.accounts import queries as account_queries
from counterline.accounts.models import User
from counterline.admin.console_schemas import (
    AdminRoomOut,
    BranchOut,
    RoomMemberList,
    RoomMemberOut,
)
from counterline.branches import actions as branches
from counterline.branches import queries as branch_queries
from counterline.branches.models import Branch
from counterline.db import Unit
from counterline.errors import Forbidden, NotFound, UserError
from counterline.i18n import N_
from counterline.people import actions as people
from counterline.rooms import actions as rooms
from counterline.rooms import queries as room_queries
from counterline.rooms.models import Room, RoomKind, Visibility

ONLY_ADMINS = N_("Only administrators can use the admin console.")
NO_SUCH_BRANCH = N_("There is no such branch.")
NO_SUCH_USER = N_("There is no user named %(username)s.")
STILL_HAS_USERS = N_(
    "%(name)s still has %(count)s active users: move them to another branch or deactivate "
    "them first."
)


def check_admin(actor: User) -> None:
    if not policy.allows(policy.USES_ADMIN_CONSOLE, actor.role):
        raise Forbidden(ONLY_ADMINS)


async def _branch(unit: Unit, branch_id: int) -> Branch:
    branch = await branch_queries.find_branch(unit.session, branch_id)
    if branch is None:
        raise NotFound(NO_SUCH_BRANCH)
    return branch


async def _active_users_by_branch(unit: Unit) -> dict[int, int]:
    rows = await unit.session.execute(
        select(User.branch_id, func.count()).where(User.active).group_by(User.branch_id)
    )
    return {branch_id: count for branch_id, count in rows.all()}


async def list_branches(unit: Unit) -> list[BranchOut]:
    """Every branch, archived ones too, by name."""
    counts = await _active_users_by_branch(unit)
    room_ids = dict(
        (
            await unit.session.execute(
                select(Room.branch_id, Room.id).where(Room.branch_id.is_not(None))
            )
        ).all()
    )
    return [
        BranchOut(
            id=branch.id,
            name=branch.name,
            archived=branch.archived_at is not None,
            archived_at=branch.archived_at,
            active_users=counts.get(branch.id, 0),
            room_id=room_ids.get(branch.id),
            created_at=branch.created_at,
        )
        for branch in await branch_queries.list_branches(unit.session)
    ]


async def branch_out(unit: Unit, branch: Branch) -> BranchOut:
    return next(out for out in await list_branches(unit) if out.id == branch.id)


async def add_branch(unit: Unit, actor: User, name: str) -> Branch:
    """A new branch and its room (audited as ``branch.added``)."""
    check_admin(actor)
    return await people.add_branch(unit, name, actor_id=actor.id)


async def change_branch(
    unit: Unit,
    actor: User,
    branch_id: int,
    *,
    name: str | None = None,
    archived: bool | None = None,
    client_ip: str = "",
) -> Branch:
    """Rename and/or archive (or restore) a branch; its room follows."""
    check_admin(actor)
    branch = await _branch(unit, branch_id)
    # Refused as a whole (rolled back) if another room has the name.
    if name is not None and await branches.rename_branch(
        unit, branch, name, actor_id=actor.id, client_ip=client_ip
    ):
        await rooms.follow_branch_name(unit, branch)
    if archived is not None:
        if archived:
            count = (await _active_users_by_branch(unit)).get(branch.id, 0)
            if count:
                raise UserError(STILL_HAS_USERS, status_code=409, name=branch.name, count=count)
        if branches.set_archived(unit, branch, archived, actor_id=actor.id, client_ip=client_ip):
            room = await rooms.open_branch_room(unit, branch)
            await rooms.set_room_archived(
                unit, actor, room, archived, client_ip=client_ip, with_branch=True
            )
    await unit.session.flush()
    return branch


def room_out(room: Room, member_count: int) -> AdminRoomOut:
    return AdminRoomOut(
        id=room.id,
        kind=room.kind,
        name=room.name,
        visibility=room.visibility,
        branch_id=room.branch_id,
        archived=room.archived_at is not None,
        archived_at=room.archived_at,
        member_count=member_count,
        created_at=room.created_at,
    )


async def list_rooms(unit: Unit) -> list[AdminRoomOut]:
    """Every room but conversations (those are their members' alone), archived ones too."""
    return [
        room_out(room, count) for room, count in await room_queries.list_named_rooms(unit.session)
    ]


async def room_with_count(unit: Unit, room: Room) -> AdminRoomOut:
    return room_out(room, len(await room_queries.member_ids(unit.session, room.id)))


async def create_topic_room(
    unit: Unit, actor: User, name: str, visibility: Visibility, *, client_ip: str = ""
) -> Room:
    check_admin(actor)
    return await rooms.create_topic_room(unit, actor, name, visibility, client_ip=client_ip)


async def change_room(
    unit: Unit,
    actor: User,
    room_id: int,
    *,
    name: str | None = None,
    archived: bool | None = None,
    client_ip: str = "",
) -> Room:
    """Rename and/or archive (or open again) a topic room."""
    check_admin(actor)
    room = await rooms.named_room(unit, room_id)
    if name is not None:
        room = await rooms.rename_topic_room(unit, actor, room.id, name, client_ip=client_ip)
    if archived is not None:
        await rooms.set_room_archived(unit, actor, room, archived, client_ip=client_ip)
    await unit.session.flush()
    return room


async def room_members(unit: Unit, actor: User, room_id: int) -> RoomMemberList:
    check_admin(actor)
    room = await rooms.named_room(unit, room_id)
    members = await room_queries.list_all_members(unit.session, room.id)
    return RoomMemberList(
        room_id=room.id,
        members=[
            RoomMemberOut(
                id=user.id,
                username=user.username,
                display_name=user.display_name,
                active=user.active,
            )
            for user in members
        ],
    )


async def add_room_member(unit: Unit, actor: User, room_id: int, username: str) -> Room:
    """Add a user to a topic room (audited as ``room.member_added``)."""
    check_admin(actor)
    room = await rooms.named_room(unit, room_id)
    user = await account_queries.find_user_by_username(unit.session, username.strip())
    if user is None:
        raise NotFound(NO_SUCH_USER, username=username.strip()[:64])
    if room.kind != RoomKind.topic:
        raise UserError(N_("Members of company and branch rooms are set by their branch."))
    return await rooms.invite_to_room(unit, actor, room.id, user)


async def remove_room_member(
    unit: Unit, actor: User, room_id: int, user_id: int, *, client_ip: str = ""
) -> bool:
    check_admin(actor)
    room = await rooms.named_room(unit, room_id)
    return await rooms.remove_member(unit, actor, room, user_id, client_ip=client_ip)
