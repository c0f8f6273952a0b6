"""Each notice's discussion thread: a room of kind ``notice``, made the first time anyone
opens it, with the notice's author in it from the start. Whoever may read the notice (its
audience, its author, who oversees it) joins the room by opening the thread, and from then
on has it in their room list with its unread count; the room is the whole chat (live,
pictures, questions and accepted answers that become FAQ entries).

Rooms of the audience are not made at publication: a notice to 2,000 people would add
2,000 room memberships for a thread most never open.
"""

from __future__ import annotations

from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import NotFound
from counterline.notices import actions, queries
from counterline.rooms.actions import add_member
from counterline.rooms.models import Room, RoomKind, Visibility

MAX_ROOM_NAME = 100


async def open_discussion(unit: Unit, user: User, notice_id: int) -> int:
    """The notice's discussion room, made if it has none, with ``user`` a member of it.
    NotFound unless ``user`` may read the notice."""
    await actions.read_notice(unit, user, notice_id)
    notice = await queries.lock_notice(unit.session, notice_id)
    room = None
    if notice.discussion_room_id is not None:
        room = await unit.session.get(Room, notice.discussion_room_id)
    if room is None:
        room = Room(
            kind=RoomKind.notice,
            name=notice.title[:MAX_ROOM_NAME],
            visibility=Visibility.invite_only,
            created_by_id=notice.author_id,
        )
        unit.session.add(room)
        await unit.session.flush()
        notice.discussion_room_id = room.id
        await add_member(unit, room, notice.author_id)
    await add_member(unit, room, user.id)
    return room.id


async def notice_discussed_in(unit: Unit, room_id: int) -> int:
    """The notice whose thread the room is (NotFound for any other room); the notice page
    then decides who may read it."""
    notice_id = await queries.notice_id_discussed_in(unit.session, room_id)
    if notice_id is None:
        raise NotFound(actions.NO_SUCH_NOTICE)
    return notice_id
