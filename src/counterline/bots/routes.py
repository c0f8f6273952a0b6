"""Bots and outgoing webhooks over HTTP: the administrators' API under /api/v1/admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from counterline.accounts.guards import AdminOnly
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.bots import actions, queries
from counterline.bots.models import OutgoingHook
from counterline.bots.schemas import (
    BotCreated,
    BotIn,
    BotList,
    BotOut,
    OutgoingHookCreated,
    OutgoingHookIn,
    OutgoingHookList,
    OutgoingHookOut,
    RoomRef,
)
from counterline.deps import ClientIp, ServicesDep
from counterline.ids import Id
from counterline.responses import json_of

router = APIRouter(tags=["bots"])  # under /api/v1


@router.post(
    "/admin/bots",
    status_code=201,
    response_model=BotCreated,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def create_bot(
    new: BotIn, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Make a bot account (administrators): a user that never logs in with a password,
    a member of the rooms it may read and post in, and its API token (scopes `read` and
    `post`), shown only now. It reads the stream and posts like any client."""
    async with services.transaction() as unit:
        user, secret, token, rooms = await actions.create_bot(
            unit,
            identity.user,
            username=new.username,
            display_name=new.display_name,
            room_ids=new.room_ids,
            client_ip=ip,
        )
    created = BotCreated(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        rooms=[RoomRef(id=room.id, name=room.name) for room in rooms],
        created_by=identity.user.display_name,
        created_at=user.created_at,
        token=secret,
        token_id=token.id,
        scopes=token.scopes.split(),
    )
    return json_of(created, 201)


@router.get("/admin/bots", response_model=BotList, responses=error_responses(401, 403))
async def list_bots(identity: AdminOnly, services: ServicesDep) -> Response:
    """Every active bot with its rooms (administrators); tokens are never listed."""
    async with services.reading() as unit:
        rows = await queries.list_bots(unit.session)
        rooms = await queries.rooms_of(unit.session, [row[1].id for row in rows])
    bots = [
        BotOut(
            id=row[1].id,
            username=row[1].username,
            display_name=row[1].display_name,
            rooms=[RoomRef(id=room_id, name=name) for room_id, name in rooms[row[1].id]],
            created_by=row.creator,
            created_at=row[0].created_at,
        )
        for row in rows
    ]
    return json_of(BotList(bots=bots))


@router.delete(
    "/admin/bots/{bot_id}", status_code=204, responses=error_responses(401, 403, 404, 422)
)
async def deactivate_bot(
    bot_id: Id, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Deactivate a bot (administrators): its tokens stop working and its streams close;
    what it posted stays."""
    async with services.transaction() as unit:
        await actions.deactivate_bot(unit, identity.user, bot_id, client_ip=ip)
    services.identities.forget_user(bot_id)  # here at once; other nodes soon
    return Response(status_code=204)


@router.post(
    "/admin/outgoing-hooks",
    status_code=201,
    response_model=OutgoingHookCreated,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def create_outgoing_hook(
    new: OutgoingHookIn, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Make an outgoing webhook on a room (administrators, Mattermost-compatible): a
    message starting with a trigger word is POSTed to `callback_url` as Mattermost sends
    it; a `text` in the JSON answer is posted into the room as the hook (or under the
    answer's `username`). The `token` it sends is shown only now."""
    async with services.transaction() as unit:
        hook, room = await actions.create_outgoing(
            unit,
            identity.user,
            room_id=new.room_id,
            name=new.name,
            trigger_words=new.trigger_words,
            callback_url=new.callback_url,
            client_ip=ip,
        )
    services.outgoing_hooks.forget()
    shown = _shown(hook, room.name, identity.user.display_name)
    return json_of(OutgoingHookCreated(**shown, token=hook.token), 201)


@router.get(
    "/admin/outgoing-hooks", response_model=OutgoingHookList, responses=error_responses(401, 403)
)
async def list_outgoing_hooks(identity: AdminOnly, services: ServicesDep) -> Response:
    """Every outgoing webhook not revoked (administrators); tokens are not listed."""
    async with services.reading() as unit:
        rows = await queries.list_live_outgoing(unit.session)
    hooks = [OutgoingHookOut(**_shown(row[0], row.room_name, row.creator)) for row in rows]
    return json_of(OutgoingHookList(hooks=hooks))


@router.delete(
    "/admin/outgoing-hooks/{hook_id}",
    status_code=204,
    responses=error_responses(401, 403, 404, 422),
)
async def revoke_outgoing_hook(
    hook_id: Id, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Revoke an outgoing webhook (administrators): no more calls, queued ones included."""
    async with services.transaction() as unit:
        await actions.revoke_outgoing(unit, identity.user, hook_id, client_ip=ip)
    services.outgoing_hooks.forget()
    return Response(status_code=204)


def _shown(hook: OutgoingHook, room_name: str, creator: str | None) -> dict[str, Any]:
    return {
        "id": hook.id,
        "room_id": hook.room_id,
        "room_name": room_name,
        "name": hook.name,
        "trigger_words": hook.trigger_words.split("\n"),
        "callback_url": hook.callback_url,
        "created_by": creator,
        "created_at": hook.created_at,
    }
