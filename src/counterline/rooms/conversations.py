"""Conversations: direct messages between two people and small groups (up to 20).

A conversation is a room of kind ``conversation`` with fixed members: its messages use the
room message endpoints and its events the ``room:{id}`` stream, like any room. Nobody joins
it, leaves it or adds to it through the topic-room endpoints, and nobody outside it, an
administrator included, learns that it exists (the membership checks answer 404).

The same two people always get the same 1:1 conversation back: its row carries
``conversation_key`` ``dm:<smaller id>:<larger id>``, unique, inserted with ON CONFLICT DO
NOTHING, so two creations at once give one room. A group conversation is new each time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from counterline.audit.actions import record
from counterline.db import Unit, utcnow
from counterline.errors import UserError
from counterline.i18n import N_
from counterline.rooms import queries
from counterline.rooms.actions import add_member
from counterline.rooms.cards import RoomCards, title_among
from counterline.rooms.models import Room, RoomKind, Visibility
from counterline.rooms.schemas import ConversationMemberOut, RoomOut

if TYPE_CHECKING:
    from counterline.accounts.models import User

MAX_CONVERSATION_MEMBERS = 20  # the caller included
MAX_TITLE_LENGTH = 100


@dataclass(frozen=True)
class Started:
    room: Room
    members: list[ConversationMemberOut]
    created: bool


def dm_key(first_id: int, second_id: int) -> str:
    low, high = sorted((first_id, second_id))
    return f"dm:{low}:{high}"


def _group_title(names: Iterable[str]) -> str:
    title = "、".join(names)
    return title if len(title) <= MAX_TITLE_LENGTH else title[: MAX_TITLE_LENGTH - 1] + "…"


async def _others(unit: Unit, creator: User, usernames: Sequence[str]) -> list[User]:
    wanted = list(dict.fromkeys(name.strip() for name in usernames if name.strip()))
    wanted = [name for name in wanted if name != creator.username]
    if not wanted:
        raise UserError(N_("Name at least one other person to start a conversation with."))
    if len(wanted) + 1 > MAX_CONVERSATION_MEMBERS:
        raise UserError(
            N_("A conversation has at most %(max)s people, you included."),
            max=MAX_CONVERSATION_MEMBERS,
        )
    found = {user.username: user for user in await queries.find_active_users(unit.session, wanted)}
    missing = [name for name in wanted if name not in found]
    if missing:
        raise UserError(N_("There is no active user named %(names)s."), names="、".join(missing))
    return [found[name] for name in wanted]


async def start_conversation(
    unit: Unit, creator: User, usernames: Sequence[str], name: str | None = None
) -> Started:
    """The caller's 1:1 conversation with one other person (found or new), or a new group
    conversation with several. ``name`` titles a group (a 1:1 is titled by the other
    person's name for each of the two, so it is ignored there)."""
    others = await _others(unit, creator, usernames)
    people = [creator, *others]
    if len(others) == 1:
        key = dm_key(creator.id, others[0].id)
        title = _group_title(sorted(user.display_name for user in people))
    else:
        key = None
        title = (name or "").strip()[:MAX_TITLE_LENGTH] or _group_title(
            user.display_name for user in people
        )
    values: dict[str, Any] = {
        "kind": RoomKind.conversation,
        "name": title,
        "visibility": Visibility.invite_only,
        "created_by_id": creator.id,
        "conversation_key": key,
        "created_at": utcnow(),
    }
    room_id = await queries.insert_conversation(unit.session, values)
    if room_id is None:  # this 1:1 exists already
        assert key is not None
        room = await queries.find_conversation(unit.session, key)
        assert room is not None
        return Started(room, await describe_members(unit, room.id), created=False)
    room = await queries.find_room(unit.session, room_id)
    assert room is not None
    members = await describe_members(unit, room.id, people)
    for user in people:  # each tab of each member subscribes and lists it at once
        await add_member(unit, room, user.id, room_out=conversation_out(room, members, user.id))
    record(
        unit,
        "conversation.created",
        actor_id=creator.id,
        target=f"room:{room.id}",
        members=len(people),
    )
    return Started(room, members, created=True)


async def describe_members(
    unit: Unit, room_id: int, people: Sequence[User] | None = None
) -> list[ConversationMemberOut]:
    if people is not None:
        return sorted(
            (ConversationMemberOut.of_user(user) for user in people),
            key=lambda member: (member.display_name, member.id),
        )
    rows = (await queries.list_conversation_members(unit.session, [room_id]))[room_id]
    return [ConversationMemberOut.of_row(row) for row in rows]


def title_for(room: Room, members: Sequence[ConversationMemberOut], viewer_id: int | None) -> str:
    """What a viewer calls the conversation: the other person's name for a 1:1."""
    people = [(member.id, member.display_name) for member in members]
    return title_among(room.name, room.conversation_key, people, viewer_id)


def conversation_out(
    room: Room, members: Sequence[ConversationMemberOut], viewer_id: int | None
) -> RoomOut:
    out = RoomOut.of(room)
    out.name = title_for(room, members, viewer_id)
    out.members = list(members)
    return out


async def rooms_out(
    unit: Unit, rooms: Sequence[Room | Row[Any]], viewer_id: int | None
) -> list[RoomOut]:
    """Rooms as the viewer sees them: conversations with their members and their title."""
    conversation_ids = [room.id for room in rooms if room.kind == RoomKind.conversation]
    members = await queries.list_conversation_members(unit.session, conversation_ids)
    return [
        conversation_out(
            room, [ConversationMemberOut.of_row(row) for row in members[room.id]], viewer_id
        )
        if room.kind == RoomKind.conversation
        else RoomOut.of(room)
        for room in rooms
    ]


async def room_list_json(unit: Unit, cards: RoomCards, viewer_id: int) -> dict[str, Any]:
    """The room list's answer in ``RoomList``'s JSON shape: the viewer's rooms and the
    public topic rooms they can join."""
    shown = await room_list_of(unit, cards, viewer_id)
    joinable = await queries.list_joinable_rooms(unit.session, viewer_id)
    return {"rooms": shown, "joinable": [joinable_json(room) for room in joinable]}


async def room_list_of(unit: Unit, cards: RoomCards, viewer_id: int) -> list[dict[str, Any]]:
    """The viewer's rooms, archived ones left out, in ``RoomOut``'s JSON shape as
    ``rooms_out`` titles them and in the order of ``queries.list_rooms_of``, each with the
    viewer's unread count, read position and mute. Plain dicts from the rooms' kept cards
    (rooms/cards.py) and the viewer's read positions, not models: every tab asks for this
    list, and for a clerk in 200 rooms and conversations the shaping would otherwise cost
    more than the queries (bench.unread; tests/test_conversations.py holds the answer to
    the model)."""
    readings = await queries.list_room_readings(unit.session, viewer_id)
    shown_cards = await cards.cards_for(unit.session, readings)
    readings.sort(key=lambda reading: shown_cards[reading[0]].order)
    shown = []
    for room_id, _, unread, last_read_id, muted in readings:
        card = shown_cards[room_id]
        shown.append(
            {
                "id": room_id,
                "kind": card.kind,
                "name": card.title_for(viewer_id),
                "visibility": card.visibility,
                "branch_id": card.branch_id,
                "members": card.members,
                "unread": unread,
                "last_read_id": last_read_id,
                "muted": muted,
            }
        )
    return shown


def joinable_json(row: Room | Row[Any]) -> dict[str, Any]:
    """A room in ``RoomOut``'s JSON shape, nothing of the viewer's in it."""
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "visibility": row.visibility,
        "branch_id": row.branch_id,
        "members": None,
        "unread": 0,
        "last_read_id": 0,
        "muted": False,
    }
