from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from counterline.accounts import policy
from counterline.accounts.actions import Identity, get_user_named
from counterline.accounts.guards import Identified, role_guard
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ClientIp, ServicesDep
from counterline.ids import Id
from counterline.rooms import actions, queries
from counterline.rooms.schemas import MemberIn, RoomList, RoomOut, TopicRoomIn

router = APIRouter(tags=["rooms"])
TopicRoomCreator = Annotated[
    Identity,
    Depends(role_guard(policy.CREATES_TOPIC_ROOMS, actions.ONLY_TOPIC_ROOM_CREATORS)),
]


@router.get("/rooms", responses=error_responses(401, 403))
async def list_rooms(identity: Identified, services: ServicesDep) -> RoomList:
    """The rooms you are a member of, and public topic rooms you can join."""
    async with services.reading() as unit:
        rooms = await queries.list_rooms_of(unit.session, identity.user.id)
        joinable = await queries.list_joinable_rooms(unit.session, identity.user.id)
    return RoomList(
        rooms=[RoomOut.of(room) for room in rooms],
        joinable=[RoomOut.of(room) for room in joinable],
    )


@router.post("/rooms", status_code=201, responses=error_responses(*BODY_ERRORS, 401, 403))
async def create_room(
    new: TopicRoomIn, identity: TopicRoomCreator, services: ServicesDep, ip: ClientIp
) -> RoomOut:
    """Create a topic room (trainers and administrators)."""
    async with services.transaction() as unit:
        room = await actions.create_topic_room(
            unit, identity.user, new.name, new.visibility, client_ip=ip
        )
    return RoomOut.of(room)


@router.put("/rooms/{room_id}/membership", responses=error_responses(401, 403, 404, 422))
async def join_room(room_id: Id, identity: Identified, services: ServicesDep) -> RoomOut:
    """Join a public topic room."""
    async with services.transaction() as unit:
        room = await actions.join_room(unit, identity.user, room_id)
    return RoomOut.of(room)


@router.post("/rooms/{room_id}/members", responses=error_responses(*BODY_ERRORS, 401, 403, 404))
async def add_member(
    room_id: Id, member: MemberIn, identity: Identified, services: ServicesDep
) -> RoomOut:
    """Add a user to an invite-only topic room (its creator or an administrator)."""
    async with services.transaction() as unit:
        invitee = await get_user_named(unit, member.username)
        room = await actions.invite_to_room(unit, identity.user, room_id, invitee)
    return RoomOut.of(room)
