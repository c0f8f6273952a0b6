"""Incoming webhooks over HTTP: the administrators' API under /api/v1/hooks, and
``POST /hooks/{token}``, where tools post (Mattermost's path, outside /api/v1: the secret in
the URL is the credential, so no session, token or CSRF check applies)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.responses import PlainTextResponse

from counterline.accounts.guards import PUBLIC, AdminOnly
from counterline.accounts.models import User
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ClientIp, ServicesDep
from counterline.errors import TooManyRequests
from counterline.hooks import actions, queries
from counterline.hooks.actions import MAX_PAYLOAD_BYTES, Poster
from counterline.hooks.models import IncomingHook
from counterline.hooks.schemas import HookCreated, HookIn, HookList, HookOut, HookPayload
from counterline.i18n import N_
from counterline.ids import Id
from counterline.responses import json_of

router = APIRouter(tags=["webhooks"])  # under /api/v1
incoming = APIRouter(tags=["webhooks"])  # at the site's root, as Mattermost has it
HOOKS_PATH = "/hooks"
TOO_OFTEN = N_("This webhook posts too often. Try again in %(seconds)s s.")


@router.post(
    "/hooks",
    status_code=201,
    response_model=HookCreated,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def create_hook(
    new: HookIn, request: Request, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Make an incoming webhook posting into a room (administrators). The answer holds its
    URL with the secret: shown only now, stored hashed; anyone holding it can post."""
    async with services.transaction() as unit:
        secret, hook, room = await actions.create_hook(
            unit,
            identity.user,
            new.room_id,
            new.name,
            allow_username_override=new.allow_username_override,
            client_ip=ip,
        )
    origin = services.settings.public_origin or str(request.base_url).rstrip("/")
    created = HookCreated(
        **_shown(hook, room.name, identity.user.display_name),
        url=f"{origin}{HOOKS_PATH}/{secret}",
        token=secret,
    )
    return json_of(created, 201)


@router.get("/hooks", response_model=HookList, responses=error_responses(401, 403))
async def list_hooks(identity: AdminOnly, services: ServicesDep) -> Response:
    """Every incoming webhook not revoked (administrators); secrets are never listed."""
    async with services.reading() as unit:
        rows = await queries.list_live_hooks(unit.session)
    hooks = [HookOut(**_shown(row[0], row.room_name, row.creator)) for row in rows]
    return json_of(HookList(hooks=hooks))


@router.delete("/hooks/{hook_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def revoke_hook(
    hook_id: Id, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Revoke an incoming webhook (administrators): its URL answers 404 from now on."""
    async with services.transaction() as unit:
        hook = await actions.revoke_hook(unit, identity.user, hook_id, client_ip=ip)
    services.hook_posters.forget_user(hook.bot_user_id)  # here at once; other nodes soon
    return Response(status_code=204)


def _shown(hook: IncomingHook, room_name: str, creator: str | None) -> dict[str, Any]:
    return {
        "id": hook.id,
        "room_id": hook.room_id,
        "room_name": room_name,
        "name": hook.name,
        "allow_username_override": hook.allow_username_override,
        "created_by": creator,
        "created_at": hook.created_at,
    }


_PAYLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": HookPayload.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["payload"],
                    "properties": {
                        "payload": {"type": "string", "description": "The JSON payload."}
                    },
                }
            },
        },
    }
}


@incoming.post(
    f"{HOOKS_PATH}/{{token}}",
    dependencies=[PUBLIC],
    response_model=None,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}, "example": "ok"}},
            "description": "Posted: the body is `ok`, as Mattermost answers.",
        },
        **error_responses(400, 403, 404, 408, 413, 415, 429),
    },
    openapi_extra=_PAYLOAD_BODY,
)
async def post_through_hook(
    token: str, request: Request, services: ServicesDep, ip: ClientIp
) -> Response:
    """Post a message through an incoming webhook, with the payload Slack and Mattermost
    accept (`text` in Markdown; `username` if the hook allows overrides; `channel`, if
    sent, naming the hook's room). Answers `ok` once the message is stored; a retry posts
    it again. Each hook may post `hook_posts_per_second` (bursts of `hook_burst`); beyond
    that, 429 with Retry-After."""
    body = await _read_body(request)
    poster = await _poster(services, actions.secret_key(token))
    wait = services.hook_rates.take(poster.hook_id)
    if wait:
        raise TooManyRequests(TOO_OFTEN, retry_after=wait, seconds=wait)
    payload = actions.read_payload(request.headers.get("content-type", ""), body)
    actions.check_channel(poster, payload.channel)
    author = await _author(services, poster, payload.username)
    await services.writer.post(author, poster.room_id, payload.text, uuid.uuid4().hex, ip)
    return PlainTextResponse("ok")


async def _read_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it passes ``MAX_PAYLOAD_BYTES``."""
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PAYLOAD_BYTES:
            raise actions.too_large()
        parts.append(chunk)
    return b"".join(parts)


async def _poster(services: ServicesDep, key: str) -> Poster:
    cached = services.hook_posters.poster(key)
    if cached is not None:
        return cached
    async with services.reading() as unit:
        poster = await actions.find_poster(unit, key)
    services.hook_posters.put_poster(key, poster)
    return poster


async def _author(services: ServicesDep, poster: Poster, username: str | None) -> User:
    name = actions.author_name(poster, username)
    if name is None:
        return poster.bot
    author = services.hook_posters.author(poster.hook_id, name)
    if author is None:
        async with services.reading() as unit:
            author = await actions.find_author(unit, poster, name)
        if author is None:
            async with services.transaction() as unit:
                author = await actions.add_author(unit, poster, name)
        services.hook_posters.put_author(poster.hook_id, name, author)
    return author
