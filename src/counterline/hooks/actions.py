"""Incoming webhooks: made and revoked by administrators; a tool holding the secret URL
posts messages into the hook's room through the normal post path, as the hook's bot."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from sqlalchemy.exc import IntegrityError

from counterline.access_feed import access_changed
from counterline.accounts.actions import add_bot_user
from counterline.accounts.models import User
from counterline.accounts.secrets import new_token, token_hash
from counterline.audit.actions import record
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound, UserError
from counterline.hooks import queries
from counterline.hooks.models import IncomingHook, IncomingHookAuthor
from counterline.hooks.schemas import MAX_HOOK_NAME, HookPayload
from counterline.i18n import N_
from counterline.rooms import queries as room_queries
from counterline.rooms.actions import add_member
from counterline.rooms.models import Room, RoomKind
from counterline.rooms.naming import name_key
from counterline.unicode_guard import INVALID_UNICODE, is_valid_unicode_json

# Unknown and revoked secrets get the same answer: it tells a guesser nothing.
NO_SUCH_HOOK = N_("There is no such webhook, or it has been revoked.")
NO_SUCH_ROOM = N_("There is no such room.")
# A hook's posts as raw bytes: a message at most (messages.schemas.MAX_BODY_LENGTH) in JSON
# with every character escaped, and room for the other fields.
MAX_PAYLOAD_BYTES = 100_000
# Names a hook that allows overrides may post under; beyond them, its own name is shown,
# so a leaked URL cannot create accounts without end.
MAX_AUTHORS = 50
_MAX_TOKEN = 200
_FORM = "application/x-www-form-urlencoded"


def check_hook_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_HOOK_NAME:
        raise UserError(N_("A webhook name has 1 to %(max)s characters."), max=MAX_HOOK_NAME)
    return name


async def create_hook(
    unit: Unit,
    creator: User,
    room_id: int,
    name: str,
    *,
    allow_username_override: bool,
    client_ip: str,
) -> tuple[str, IncomingHook, Room]:
    """A new hook and its bot, a member of the room from now on. Returns the secret (shown
    once, only its hash is kept), the hook and its room."""
    room = await room_queries.find_room(unit.session, room_id)
    if room is None or room.kind == RoomKind.conversation:
        raise NotFound(NO_SUCH_ROOM)
    name = check_hook_name(name)
    bot = await _add_bot(unit, room, name, room.branch_id or creator.branch_id)
    secret = new_token("clh_")
    hook = IncomingHook(
        token_hash=token_hash(secret),
        room_id=room.id,
        name=name,
        bot_user_id=bot.id,
        allow_username_override=allow_username_override,
        created_by_id=creator.id,
    )
    unit.session.add(hook)
    await unit.session.flush()
    record(
        unit,
        "hook.created",
        actor_id=creator.id,
        target=f"hook:{hook.id}",
        client_ip=client_ip,
        room_id=room.id,
        name=name,
        bot_user_id=bot.id,
        allow_username_override=allow_username_override,
    )
    return secret, hook, room


async def _add_bot(unit: Unit, room: Room, display_name: str, branch_id: int) -> User:
    """The inactive account a hook's posts are by, a member of ``room``."""
    username = f"hook-{secrets.token_hex(6)}"
    bot = await add_bot_user(
        unit, username=username, display_name=display_name, branch_id=branch_id, active=False
    )
    await add_member(unit, room, bot.id)
    return bot


async def revoke_hook(unit: Unit, actor: User, hook_id: int, *, client_ip: str) -> IncomingHook:
    """The hook's URL stops working: every node forgets it (an access change of its bot,
    hooks.cache). Its bots stay the authors of what it posted."""
    hook = await queries.find_hook(unit.session, hook_id)
    if hook is None or hook.revoked_at is not None:
        raise NotFound(N_("There is no such webhook."))
    hook.revoked_at = utcnow()
    access_changed(unit, hook.bot_user_id)
    record(
        unit,
        "hook.revoked",
        actor_id=actor.id,
        target=f"hook:{hook.id}",
        client_ip=client_ip,
        room_id=hook.room_id,
        name=hook.name,
    )
    return hook


@dataclass(frozen=True, slots=True)
class Poster:
    """A live hook as its posts need it."""

    hook_id: int
    room_id: int
    room_name: str
    bot: User
    allow_username_override: bool


def secret_key(token: str) -> str:
    """What a hook's secret is looked up by: its hash (NotFound for what cannot be one)."""
    if not 0 < len(token) <= _MAX_TOKEN:
        raise NotFound(NO_SUCH_HOOK)
    return token_hash(token)


async def find_poster(unit: Unit, key: str) -> Poster:
    """The live hook whose secret hashes to ``key`` (``secret_key``)."""
    found = await queries.find_live_hook(unit.session, key)
    if found is None:
        raise NotFound(NO_SUCH_HOOK)
    hook, bot, room_name = found
    return Poster(hook.id, hook.room_id, room_name, bot, hook.allow_username_override)


def read_payload(content_type: str, body: bytes) -> HookPayload:
    """The payload as Slack and Mattermost tools send it: a JSON body, or a form whose
    ``payload`` field holds the JSON."""
    if len(body) > MAX_PAYLOAD_BYTES:
        raise too_large()
    media = content_type.split(";")[0].strip().lower()
    if media == _FORM:
        body = _form_payload(body)
    elif media != "application/json":
        raise UserError(
            N_(
                "Send the payload as application/json, or as "
                "application/x-www-form-urlencoded with a field named payload."
            ),
            status_code=415,
        )
    if not is_valid_unicode_json(body):
        raise UserError(INVALID_UNICODE)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise UserError(N_("The payload is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise UserError(N_("The payload must be a JSON object."))
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise UserError(N_("The payload needs a text: the message to post."))
    fields = {"text": text}
    for field in ("username", "icon_url", "channel"):
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise UserError(N_("The payload's %(field)s must be a string."), field=field)
        fields[field] = value
    return HookPayload.model_validate(fields)


def too_large() -> UserError:
    return UserError(
        N_("The payload is too large: at most %(max)s bytes."),
        status_code=413,
        max=MAX_PAYLOAD_BYTES,
    )


def _form_payload(body: bytes) -> bytes:
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise UserError(INVALID_UNICODE) from None
    values = fields.get("payload")
    if not values:
        raise UserError(N_("A form-encoded payload is sent as the field named payload."))
    return values[0].encode("utf-8", errors="surrogatepass")


def check_channel(poster: Poster, channel: str | None) -> None:
    """A hook posts into its own room only; ``channel`` may name it (Mattermost tools send
    their configured channel along), by name or id, with or without a leading #."""
    wanted = (channel or "").strip().lstrip("#~").strip()
    if not wanted or wanted == str(poster.room_id):
        return
    if name_key(wanted) != name_key(poster.room_name):
        raise Forbidden(
            N_("This webhook posts only into the room “%(room)s”, not into “%(channel)s”."),
            room=poster.room_name,
            channel=wanted[:100],
        )


def author_name(poster: Poster, username: str | None) -> str | None:
    """The name a post asks to be shown under, if the hook allows it and it is not the
    hook's own; None: the hook's own bot."""
    if not poster.allow_username_override or username is None or not username.strip():
        return None
    name = check_hook_name(username)
    return None if name == poster.bot.display_name else name


async def find_author(unit: Unit, poster: Poster, name: str) -> User | None:
    return await queries.find_author(unit.session, poster.hook_id, name)


async def add_author(unit: Unit, poster: Poster, name: str) -> User:
    """The bot that posts under ``name`` for this hook, made on its first post (or the hook's
    own, once the hook has used ``MAX_AUTHORS`` names)."""
    found = await queries.find_author(unit.session, poster.hook_id, name)
    if found is not None:
        return found
    if await queries.count_authors(unit.session, poster.hook_id) >= MAX_AUTHORS:
        return poster.bot
    room = await room_queries.find_room(unit.session, poster.room_id)
    if room is None:
        raise NotFound(NO_SUCH_HOOK)
    try:
        async with unit.session.begin_nested():
            bot = await _add_bot(unit, room, name, poster.bot.branch_id)
            unit.session.add(IncomingHookAuthor(hook_id=poster.hook_id, name=name, user_id=bot.id))
            await unit.session.flush()
    except IntegrityError:  # the same name's first post, at the same moment on another node
        found = await queries.find_author(unit.session, poster.hook_id, name)
        if found is None:
            raise
        return found
    record(
        unit, "hook.author_added", target=f"hook:{poster.hook_id}", bot_user_id=bot.id, name=name
    )
    return bot
