from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from counterline.access_feed import access_changed
from counterline.accounts import policy
from counterline.audit.actions import record
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound, UserError
from counterline.i18n import N_
from counterline.rooms import queries
from counterline.rooms.events import MemberAdded, MemberRemoved, RoomOpened, RoomRenamed
from counterline.rooms.models import Room, RoomKind, Visibility
from counterline.rooms.naming import MAX_NAME_KEY_LENGTH, name_key
from counterline.rooms.schemas import RoomOut

if TYPE_CHECKING:
    from counterline.accounts.models import User
    from counterline.branches.models import Branch

COMPANY_ROOM_NAME = "全公司"
NOT_A_MEMBER = N_("Room not found, or you are not a member of it.")
ONLY_TOPIC_ROOM_CREATORS = N_("Only trainers and administrators can create topic rooms.")
NAME_TAKEN = N_("There is already a room named “%(name)s”. Pick another name.")
ROOM_NAME_TOO_LONG = N_("Room name is too long (at most 100 characters).")


async def _check_name_free(unit: Unit, key: str) -> None:
    taken = await queries.find_room_by_name_key(unit.session, key)
    if taken is not None:
        raise UserError(NAME_TAKEN, status_code=409, name=taken.name)


async def _add_named_room(unit: Unit, room: Room) -> Room:
    """Insert a room with a name key; 409 naming the room that already has it.

    Checked first for the message; the unique index settles two creations at once (the
    later one's insert fails inside a savepoint and it reports the earlier room)."""
    assert room.name_key is not None
    await _check_name_free(unit, room.name_key)
    try:
        async with unit.session.begin_nested():
            unit.session.add(room)
            await unit.session.flush()
    except IntegrityError:
        await _check_name_free(unit, room.name_key)
        raise
    return room


async def open_company_room(unit: Unit) -> Room:
    room = await queries.find_company_room(unit.session)
    if room is None:
        room = Room(
            kind=RoomKind.company,
            name=COMPANY_ROOM_NAME,
            name_key=name_key(COMPANY_ROOM_NAME),
            visibility=Visibility.public,
        )
        await _add_named_room(unit, room)
    return room


async def open_branch_room(unit: Unit, branch: Branch) -> Room:
    room = await queries.find_branch_room(unit.session, branch.id)
    if room is None:
        room = Room(
            kind=RoomKind.branch,
            name=branch.name,
            name_key=name_key(branch.name)[:MAX_NAME_KEY_LENGTH],
            visibility=Visibility.invite_only,
            branch_id=branch.id,
        )
        await _add_named_room(unit, room)
    return room


async def add_member(
    unit: Unit, room: Room, user_id: int, *, room_out: RoomOut | None = None
) -> None:
    """``room_out``: the room as this user sees it in their tabs (a conversation's title
    and members), if not plain ``RoomOut.of(room)``."""
    if not await queries.insert_membership(unit.session, room.id, user_id):
        return  # already a member (perhaps since a concurrent join a moment ago)
    shown = room_out or RoomOut.of(room)
    unit.emit(MemberAdded(user_id=user_id, room=shown.model_dump(mode="json")))
    access_changed(unit, user_id)


async def place_in_home_rooms(unit: Unit, user: User, branch: Branch) -> None:
    """Every user belongs to the company room and to their branch's room."""
    await add_member(unit, await open_company_room(unit), user.id)
    await add_member(unit, await open_branch_room(unit, branch), user.id)


async def move_between_branch_rooms(unit: Unit, user: User, old: Branch, new: Branch) -> None:
    old_room = await open_branch_room(unit, old)
    await queries.remove_membership(unit.session, old_room.id, user.id)
    unit.emit(MemberRemoved(user_id=user.id, room_id=old_room.id))
    access_changed(unit, user.id)
    await add_member(unit, await open_branch_room(unit, new), user.id)


def check_room_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UserError(N_("Room name must not be empty."))
    if len(name) > 100 or len(name_key(name)) > MAX_NAME_KEY_LENGTH:
        raise UserError(ROOM_NAME_TOO_LONG)
    return name


async def create_topic_room(
    unit: Unit, creator: User, name: str, visibility: Visibility, *, client_ip: str = ""
) -> Room:
    if not policy.creates_topic_rooms(creator.role):
        raise Forbidden(ONLY_TOPIC_ROOM_CREATORS)
    name = check_room_name(name)
    room = Room(
        kind=RoomKind.topic,
        name=name,
        name_key=name_key(name),
        visibility=visibility,
        created_by_id=creator.id,
    )
    await _add_named_room(unit, room)
    await add_member(unit, room, creator.id)
    if visibility == Visibility.public:
        unit.emit(RoomOpened(room=RoomOut.of(room).model_dump(mode="json")))
    record(
        unit,
        "room.created",
        actor_id=creator.id,
        target=f"room:{room.id}",
        client_ip=client_ip,
        name=room.name,
        visibility=visibility.value,
    )
    return room


async def get_visible_room(unit: Unit, user: User, room_id: int) -> Room:
    """A room the user is a member of, or NotFound (we don't reveal other rooms exist)."""
    room = await queries.find_room_of_member(unit.session, room_id, user.id)
    if room is None:
        raise NotFound(NOT_A_MEMBER)
    return room


async def check_member(unit: Unit, user: User, room_id: int) -> None:
    """NotFound unless the user is a member of the room (cheaper than loading the room)."""
    if not await queries.is_member(unit.session, room_id, user.id):
        raise NotFound(NOT_A_MEMBER)


async def room_to_join(unit: Unit, room_id: int) -> Room:
    """A public topic room, which anyone may see and join; NotFound for any other room
    (invite-only rooms and conversations are not revealed)."""
    room = await queries.find_room(unit.session, room_id)
    if (
        room is None
        or room.kind != RoomKind.topic
        or room.visibility != Visibility.public
        or room.archived_at is not None
    ):
        raise NotFound(NOT_A_MEMBER)
    return room


async def join_room(unit: Unit, user: User, room_id: int) -> Room:
    room = await queries.find_room(unit.session, room_id)
    if (
        room is None
        or room.kind != RoomKind.topic
        or room.visibility != Visibility.public
        or room.archived_at is not None
    ):
        raise NotFound(N_("There is no public topic room with that id."))
    await add_member(unit, room, user.id)
    return room


async def invite_to_room(unit: Unit, inviter: User, room_id: int, invitee: User) -> Room:
    any_room = policy.adds_members_to_any_room(inviter.role)
    if any_room:
        room = await queries.find_room(unit.session, room_id)
        # An administrator's reach stops at conversations: they are their members' alone.
        if room is None or (
            room.kind == RoomKind.conversation
            and not await queries.is_member(unit.session, room.id, inviter.id)
        ):
            raise NotFound(NOT_A_MEMBER)
    else:
        room = await get_visible_room(unit, inviter, room_id)
    if room.kind == RoomKind.conversation:
        raise UserError(N_("The members of a conversation are fixed: start a new one instead."))
    if room.kind != RoomKind.topic:
        raise UserError(N_("Members of company and branch rooms are set by their branch."))
    if inviter.id != room.created_by_id and not any_room:
        raise Forbidden(N_("Only the room's creator or an administrator can add members."))
    check_open(room)
    await add_member(unit, room, invitee.id)
    record(
        unit,
        "room.member_added",
        actor_id=inviter.id,
        target=f"room:{room.id}",
        user_id=invitee.id,
    )
    return room


async def rename_topic_room(
    unit: Unit, renamer: User, room_id: int, name: str, *, client_ip: str = ""
) -> Room:
    """Rename a topic room (its creator or an administrator); 409 if another room has the
    name. Company and branch rooms are named after the company and their branch."""
    any_room = policy.adds_members_to_any_room(renamer.role)
    room = await queries.find_room(unit.session, room_id)
    if room is None or (
        not await queries.is_member(unit.session, room.id, renamer.id)
        and (not any_room or room.kind == RoomKind.conversation)
    ):
        raise NotFound(NOT_A_MEMBER)
    if room.kind != RoomKind.topic:
        raise UserError(N_("Only topic rooms can be renamed."))
    if renamer.id != room.created_by_id and not any_room:
        raise Forbidden(N_("Only the room's creator or an administrator can rename it."))
    name = check_room_name(name)
    key = name_key(name)
    if key != room.name_key:
        await _check_name_free(unit, key)
    old_name = room.name
    try:
        async with unit.session.begin_nested():
            room.name, room.name_key = name, key
            await unit.session.flush()
    except IntegrityError:
        await _check_name_free(unit, key)
        raise
    if name != old_name:
        unit.emit(RoomRenamed(room=RoomOut.of(room).model_dump(mode="json")))
        record(
            unit,
            "room.renamed",
            actor_id=renamer.id,
            target=f"room:{room.id}",
            client_ip=client_ip,
            old_name=old_name,
            name=name,
        )
    return room


# The admin console: archiving, removing members, branch rooms following their branch.

ROOM_ARCHIVED = N_("This room is archived: its history can be read, but nothing new can be added.")
ONLY_ADMINS_ARCHIVE = N_("Only administrators can archive rooms.")


def check_open(room: Room) -> None:
    """Forbidden if the room is archived (read-only)."""
    if room.archived_at is not None:
        raise Forbidden(ROOM_ARCHIVED)


async def named_room(unit: Unit, room_id: int) -> Room:
    """Any room but a conversation (the admin console's reach), or NotFound."""
    room = await queries.find_room(unit.session, room_id)
    if room is None or room.kind == RoomKind.conversation:
        raise NotFound(N_("There is no such room."))
    return room


async def set_room_archived(
    unit: Unit,
    actor: User | None,
    room: Room,
    archived: bool,
    *,
    client_ip: str = "",
    with_branch: bool = False,
) -> bool:
    """Archive a room (read-only, out of its members' room lists, history kept) or open it
    again; whether that changed anything. The company room is never archived; a branch
    room only with its branch (``with_branch``)."""
    if actor is not None and not policy.archives_rooms(actor.role):
        raise Forbidden(ONLY_ADMINS_ARCHIVE)
    if room.kind == RoomKind.company:
        raise UserError(N_("The company room cannot be archived."))
    if room.kind == RoomKind.branch and not with_branch:
        raise UserError(N_("A branch room is archived and restored with its branch."))
    if (room.archived_at is not None) == archived:
        return False
    room.archived_at = utcnow() if archived else None
    await unit.session.flush()
    for user_id in await queries.member_ids(unit.session, room.id):
        if archived:
            unit.emit(MemberRemoved(user_id=user_id, room_id=room.id))
        else:
            unit.emit(MemberAdded(user_id=user_id, room=RoomOut.of(room).model_dump(mode="json")))
        access_changed(unit, user_id)
    record(
        unit,
        "room.archived" if archived else "room.unarchived",
        actor_id=actor.id if actor is not None else None,
        target=f"room:{room.id}",
        client_ip=client_ip,
        name=room.name,
    )
    return True


async def remove_member(
    unit: Unit, remover: User, room: Room, user_id: int, *, client_ip: str = ""
) -> bool:
    """Take a user out of a topic room (an administrator); whether they were in it."""
    if not policy.adds_members_to_any_room(remover.role):
        raise Forbidden(N_("Only administrators can remove members from a room."))
    if room.kind != RoomKind.topic:
        raise UserError(N_("Members of company and branch rooms are set by their branch."))
    if not await queries.is_member(unit.session, room.id, user_id):
        return False
    await queries.remove_membership(unit.session, room.id, user_id)
    unit.emit(MemberRemoved(user_id=user_id, room_id=room.id))
    access_changed(unit, user_id)
    record(
        unit,
        "room.member_removed",
        actor_id=remover.id,
        target=f"room:{room.id}",
        client_ip=client_ip,
        user_id=user_id,
    )
    return True


async def check_branch_room_name(unit: Unit, branch_id: int | None, name: str) -> None:
    """409 if a room other than the branch's own (None: a new branch) already has ``name``."""
    key = name_key(name)[:MAX_NAME_KEY_LENGTH]
    taken = await queries.find_room_by_name_key(unit.session, key)
    if taken is not None and (branch_id is None or taken.branch_id != branch_id):
        raise UserError(NAME_TAKEN, status_code=409, name=taken.name)


async def follow_branch_name(unit: Unit, branch: Branch) -> Room:
    """Name the branch's room after the branch again (after a rename)."""
    room = await open_branch_room(unit, branch)
    if room.name != branch.name:
        await check_branch_room_name(unit, branch.id, branch.name)
        room.name, room.name_key = branch.name, name_key(branch.name)[:MAX_NAME_KEY_LENGTH]
        await unit.session.flush()
        unit.emit(RoomRenamed(room=RoomOut.of(room).model_dump(mode="json")))
    return room
