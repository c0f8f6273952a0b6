from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from counterline.accounts import policy
from counterline.accounts.actions import Identity, get_user_named
from counterline.accounts.guards import Identified, identified, role_guard
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.conditional import conditional_json
from counterline.deps import ClientIp, ServicesDep, services_of
from counterline.ids import Id
from counterline.rooms import actions, conversations, queries
from counterline.rooms.schemas import (
    ConversationIn,
    MemberIn,
    RoomList,
    RoomMemberList,
    RoomMemberOut,
    RoomOut,
    RoomRenameIn,
    TopicRoomIn,
)

router = APIRouter(tags=["rooms"])
TopicRoomCreator = Annotated[
    Identity,
    Depends(role_guard(policy.CREATES_TOPIC_ROOMS, actions.ONLY_TOPIC_ROOM_CREATORS)),
]


@router.get("/rooms", response_model=RoomList, responses=error_responses(401, 403))
async def list_rooms(request: Request, identity: Identified) -> Response:
    """The rooms you are a member of (conversations last, `kind` `conversation`, with their
    members), each with your `unread` count and `last_read_id`, and public topic rooms you
    can join. The answer carries an `ETag`: sent back in `If-None-Match`, it is answered
    304 with no body while the list is unchanged."""
    return await _room_list(request, identity)


async def quick_room_list(request: Request) -> Response:
    """``list_rooms`` before FastAPI routes the request (web/quick_routes)."""
    return await _room_list(request, await identified(request))


async def _room_list(request: Request, identity: Identity) -> Response:
    services = services_of(request)
    async with services.quick_read() as unit:
        answer = await conversations.room_list_json(unit, services.room_cards, identity.user.id)
    return conditional_json(request, answer)


@router.post("/rooms", status_code=201, responses=error_responses(*BODY_ERRORS, 401, 403, 409))
async def create_room(
    new: TopicRoomIn, identity: TopicRoomCreator, services: ServicesDep, ip: ClientIp
) -> RoomOut:
    """Create a topic room (trainers and administrators). 409 if a room has the same name,
    ignoring case, full- and half-width forms and extra spaces."""
    async with services.transaction() as unit:
        room = await actions.create_topic_room(
            unit, identity.user, new.name, new.visibility, client_ip=ip
        )
    return RoomOut.of(room)


@router.patch("/rooms/{room_id}", responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409))
async def rename_room(
    room_id: Id, change: RoomRenameIn, identity: Identified, services: ServicesDep, ip: ClientIp
) -> RoomOut:
    """Rename a topic room (its creator or an administrator). 409 if another room has the
    name, ignoring case, full- and half-width forms and extra spaces."""
    async with services.transaction() as unit:
        room = await actions.rename_topic_room(
            unit, identity.user, room_id, change.name, client_ip=ip
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


@router.get("/rooms/{room_id}/members", responses=error_responses(401, 403, 404, 422))
async def list_members(
    room_id: Id,
    identity: Identified,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=100, description="Part of a name or username.")] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> RoomMemberList:
    """Who is in a room you are a member of: active members by display name, a page at a
    time (a company room may have thousands), with whether each is online now."""
    async with services.reading() as unit:
        await actions.check_member(unit, identity.user, room_id)
        total, rows = await queries.list_members(
            unit.session, room_id, search=q.strip(), offset=offset, limit=limit
        )
    presence = services.presence
    return RoomMemberList(
        total=total,
        members=[
            RoomMemberOut(
                id=row.id,
                username=row.username,
                display_name=row.display_name,
                branch=row.branch,
                online=presence.is_online(row.id),
            )
            for row in rows
        ],
        has_more=offset + len(rows) < total,
    )


@router.post(
    "/conversations",
    status_code=201,
    responses={
        200: {"model": RoomOut, "description": "The 1:1 conversation you already have."},
        **error_responses(*BODY_ERRORS, 401, 403),
    },
)
async def start_conversation(
    new: ConversationIn, identity: Identified, services: ServicesDep, response: Response
) -> RoomOut:
    """Start a conversation: a direct message with one other person (the same two people
    always get the same one back, then with 200) or a new group conversation with up to
    19 others. Post to it with the room message endpoints; its events come on its room
    stream. 400 names usernames that are unknown or inactive."""
    async with services.transaction() as unit:
        started = await conversations.start_conversation(unit, identity.user, new.members, new.name)
    if not started.created:
        response.status_code = 200
    return conversations.conversation_out(started.room, started.members, identity.user.id)
