"""Bot accounts and outgoing webhooks: what administrators do with them, and what an
outgoing hook sends and posts back."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from counterline.access_feed import access_changed
from counterline.accounts import queries as account_queries
from counterline.accounts.actions import (
    add_bot_user,
    check_display_name,
    check_username,
    create_api_token,
    set_active,
)
from counterline.accounts.models import ApiToken, User
from counterline.accounts.policy import TokenScope
from counterline.audit.actions import record
from counterline.bots import queries
from counterline.bots.models import Bot, OutgoingHook, OutgoingHookAuthor
from counterline.db import Unit, utcnow
from counterline.errors import NotFound, UserError
from counterline.i18n import N_
from counterline.rooms import queries as room_queries
from counterline.rooms.actions import add_member
from counterline.rooms.models import Room, RoomKind

NO_SUCH_ROOM = N_("There is no such room.")
MAX_BOT_ROOMS = 50
MAX_HOOK_NAME = 64
MAX_TRIGGER_WORDS = 20
MAX_TRIGGER_WORD = 50
MAX_CALLBACK_URL = 2000
# Names one outgoing hook's answers may post under (``username``); beyond them, its own.
MAX_AUTHORS = 50
BOT_SCOPES = (TokenScope.read.value, TokenScope.post.value)


async def _rooms(unit: Unit, room_ids: Sequence[int]) -> list[Room]:
    rooms = []
    for room_id in dict.fromkeys(room_ids):
        room = await room_queries.find_room(unit.session, room_id)
        if room is None or room.kind == RoomKind.conversation:
            raise NotFound(NO_SUCH_ROOM)
        rooms.append(room)
    return rooms


async def create_bot(
    unit: Unit,
    creator: User,
    *,
    username: str,
    display_name: str,
    room_ids: Sequence[int],
    client_ip: str,
) -> tuple[User, str, ApiToken, list[Room]]:
    """A bot account, a member of ``room_ids`` (where it reads and posts), and its first
    token (read and post). Returns the bot, the token's secret (shown once), the token
    and the rooms."""
    username = check_username(username)
    if await account_queries.find_user_by_username(unit.session, username):
        raise UserError(N_("The username %(name)s is taken."), name=username)
    display_name = check_display_name(display_name)
    if len(room_ids) > MAX_BOT_ROOMS:
        raise UserError(N_("A bot posts in at most %(n)s rooms."), n=MAX_BOT_ROOMS)
    rooms = await _rooms(unit, room_ids)
    branch_id = next((room.branch_id for room in rooms if room.branch_id), creator.branch_id)
    user = await add_bot_user(
        unit, username=username, display_name=display_name, branch_id=branch_id, active=True
    )
    unit.session.add(Bot(user_id=user.id, created_by_id=creator.id))
    for room in rooms:
        await add_member(unit, room, user.id)
    record(
        unit,
        "bot.created",
        actor_id=creator.id,
        target=f"user:{user.id}",
        client_ip=client_ip,
        username=username,
        room_ids=[room.id for room in rooms],
    )
    secret, token = await create_api_token(
        unit, user, label="bot", scopes=BOT_SCOPES, actor_id=creator.id, client_ip=client_ip
    )
    return user, secret, token, rooms


async def deactivate_bot(unit: Unit, actor: User, user_id: int, *, client_ip: str) -> User:
    """The bot stops: its tokens are revoked and its streams close; its posts stay."""
    found = await queries.find_bot(unit.session, user_id)
    if found is None or not found[1].active:
        raise NotFound(N_("There is no such bot."))
    user = found[1]
    await set_active(unit, user, False, actor_id=actor.id)
    record(
        unit, "bot.deactivated", actor_id=actor.id, target=f"user:{user.id}", client_ip=client_ip
    )
    return user


def check_hook_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_HOOK_NAME:
        raise UserError(N_("A webhook name has 1 to %(max)s characters."), max=MAX_HOOK_NAME)
    return name


def check_trigger_words(words: Sequence[str]) -> list[str]:
    """1 to 20 words of 1 to 50 characters, without line breaks; each once."""
    cleaned = list(dict.fromkeys(word.strip() for word in words))
    if not 0 < len(cleaned) <= MAX_TRIGGER_WORDS or any(
        not word or len(word) > MAX_TRIGGER_WORD or "\n" in word or "\r" in word for word in cleaned
    ):
        raise UserError(
            N_("Give 1 to %(n)s trigger words of 1 to %(max)s characters each."),
            n=MAX_TRIGGER_WORDS,
            max=MAX_TRIGGER_WORD,
        )
    return cleaned


def check_callback_url(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 address
        usable = False
    if len(url) > MAX_CALLBACK_URL or not usable:
        raise UserError(N_("The callback URL must be an http:// or https:// address."))
    return url


async def create_outgoing(
    unit: Unit,
    creator: User,
    *,
    room_id: int,
    name: str,
    trigger_words: Sequence[str],
    callback_url: str,
    client_ip: str,
) -> tuple[OutgoingHook, Room]:
    """An outgoing hook on a room and the bot its answers are posted as (a member of the
    room from now on). Its token, sent with every call, is made here."""
    [room] = await _rooms(unit, [room_id])
    name = check_hook_name(name)
    words = check_trigger_words(trigger_words)
    url = check_callback_url(callback_url)
    bot = await _hook_bot(unit, room, name, room.branch_id or creator.branch_id)
    hook = OutgoingHook(
        room_id=room.id,
        name=name,
        trigger_words="\n".join(words),
        callback_url=url,
        token=secrets.token_urlsafe(24),
        bot_user_id=bot.id,
        created_by_id=creator.id,
    )
    unit.session.add(hook)
    await unit.session.flush()
    record(
        unit,
        "outgoing_hook.created",
        actor_id=creator.id,
        target=f"outgoing_hook:{hook.id}",
        client_ip=client_ip,
        room_id=room.id,
        name=name,
        trigger_words=words,
        callback_url=url,
        bot_user_id=bot.id,
    )
    return hook, room


async def _hook_bot(unit: Unit, room: Room, name: str, branch_id: int) -> User:
    bot = await add_bot_user(
        unit,
        username=f"outhook-{secrets.token_hex(6)}",
        display_name=name,
        branch_id=branch_id,
        active=False,
    )
    await add_member(unit, room, bot.id)
    return bot


async def revoke_outgoing(unit: Unit, actor: User, hook_id: int, *, client_ip: str) -> None:
    hook = await queries.find_outgoing(unit.session, hook_id)
    if hook is None or hook.revoked_at is not None:
        raise NotFound(N_("There is no such webhook."))
    hook.revoked_at = utcnow()
    access_changed(unit, hook.bot_user_id)
    record(
        unit,
        "outgoing_hook.revoked",
        actor_id=actor.id,
        target=f"outgoing_hook:{hook.id}",
        client_ip=client_ip,
        room_id=hook.room_id,
        name=hook.name,
    )


def trigger_of(words: Sequence[str], text: str) -> str | None:
    """The trigger word ``text`` starts with (the longest, if several do), or None."""
    text = text.lstrip()
    found = [word for word in words if text.startswith(word)]
    return max(found, key=len) if found else None


def mattermost_payload(
    hook: OutgoingHook, room_name: str, post: dict[str, Any], trigger_word: str
) -> dict[str, Any]:
    """What Mattermost's outgoing webhooks send (application/json)."""
    return {
        "token": hook.token,
        "team_id": "",
        "team_domain": "",
        "channel_id": str(hook.room_id),
        "channel_name": room_name,
        "timestamp": post["timestamp"],
        "user_id": str(post["user_id"]),
        "user_name": post["user_name"],
        "post_id": str(post["id"]),
        "text": post["text"],
        "trigger_word": trigger_word,
        "file_ids": "",
    }


def post_of(message: dict[str, Any]) -> dict[str, Any]:
    """What a job needs of a posted message (a MessagePosted event's), as JSON."""
    created = message["created_at"]
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    return {
        "id": message["id"],
        "room_id": message["room_id"],
        "user_id": message["author"]["id"],
        "user_name": message["author"]["username"],
        "text": message["body"],
        "timestamp": int(created.timestamp() * 1000),
    }


def answer_name(hook_bot: User, username: object) -> str | None:
    """The name an answer asks to be posted under, if not the hook's own."""
    if not isinstance(username, str) or not username.strip():
        return None
    name = " ".join(username.split())[:MAX_HOOK_NAME]
    return None if name == hook_bot.display_name else name


async def author_for(unit: Unit, hook_id: int, hook_bot: User, room_id: int, name: str) -> User:
    """The bot that posts an answer under ``name`` for this hook, made on first use (or the
    hook's own, once the hook has used ``MAX_AUTHORS`` names)."""
    found = await queries.find_author(unit.session, hook_id, name)
    if found is not None:
        return found
    if await queries.count_authors(unit.session, hook_id) >= MAX_AUTHORS:
        return hook_bot
    room = await room_queries.find_room(unit.session, room_id)
    if room is None:
        return hook_bot
    try:
        async with unit.session.begin_nested():
            bot = await _hook_bot(unit, room, name, hook_bot.branch_id)
            unit.session.add(OutgoingHookAuthor(hook_id=hook_id, name=name, user_id=bot.id))
            await unit.session.flush()
    except IntegrityError:  # the same name's first answer, at the same moment elsewhere
        found = await queries.find_author(unit.session, hook_id, name)
        if found is None:
            raise
        return found
    record(
        unit,
        "outgoing_hook.author_added",
        target=f"outgoing_hook:{hook_id}",
        bot_user_id=bot.id,
        name=name,
    )
    return bot
