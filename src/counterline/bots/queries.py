"""Every query of bots and outgoing webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from counterline.accounts.models import User
from counterline.bots.models import Bot, OutgoingHook, OutgoingHookAuthor
from counterline.rooms.models import Membership, Room

_Creator = aliased(User)


async def list_bots(db: AsyncSession) -> Sequence[Row[Any]]:
    """Every bot still active, oldest first: (bot, its user, its creator's display name)."""
    result = await db.execute(
        select(Bot, User, _Creator.display_name.label("creator"))
        .join(User, User.id == Bot.user_id)
        .outerjoin(_Creator, _Creator.id == Bot.created_by_id)
        .where(User.active.is_(True))
        .order_by(Bot.user_id)
    )
    return result.all()


async def find_bot(db: AsyncSession, user_id: int) -> Row[Any] | None:
    result = await db.execute(
        select(Bot, User).join(User, User.id == Bot.user_id).where(Bot.user_id == user_id)
    )
    return result.first()


async def rooms_of(db: AsyncSession, user_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """Each user's rooms, as (id, name), by id."""
    rooms: dict[int, list[tuple[int, str]]] = {user_id: [] for user_id in user_ids}
    if not user_ids:
        return rooms
    result = await db.execute(
        select(Membership.user_id, Room.id, Room.name)
        .join(Room, Room.id == Membership.room_id)
        .where(Membership.user_id.in_(user_ids))
        .order_by(Room.id)
    )
    for user_id, room_id, name in result.all():
        rooms[user_id].append((room_id, name))
    return rooms


async def list_live_outgoing(db: AsyncSession) -> Sequence[Row[Any]]:
    """Every outgoing hook not revoked, oldest first, with its room's and creator's names."""
    result = await db.execute(
        select(OutgoingHook, Room.name.label("room_name"), _Creator.display_name.label("creator"))
        .join(Room, Room.id == OutgoingHook.room_id)
        .outerjoin(_Creator, _Creator.id == OutgoingHook.created_by_id)
        .where(OutgoingHook.revoked_at.is_(None))
        .order_by(OutgoingHook.id)
    )
    return result.all()


async def find_outgoing(db: AsyncSession, hook_id: int) -> OutgoingHook | None:
    return await db.get(OutgoingHook, hook_id)


async def find_live_outgoing(db: AsyncSession, hook_id: int) -> Row[Any] | None:
    """A hook not revoked, with its bot and its room's name."""
    result = await db.execute(
        select(OutgoingHook, User, Room.name)
        .join(User, User.id == OutgoingHook.bot_user_id)
        .join(Room, Room.id == OutgoingHook.room_id)
        .where(OutgoingHook.id == hook_id, OutgoingHook.revoked_at.is_(None))
    )
    return result.first()


async def live_triggers(db: AsyncSession) -> Sequence[Row[Any]]:
    """What the post path matches messages against: (id, room_id, trigger_words)."""
    result = await db.execute(
        select(OutgoingHook.id, OutgoingHook.room_id, OutgoingHook.trigger_words).where(
            OutgoingHook.revoked_at.is_(None)
        )
    )
    return result.all()


async def outgoing_authors(db: AsyncSession) -> set[int]:
    """Every account an outgoing hook posts as: its answers never trigger a hook."""
    bots = await db.scalars(select(OutgoingHook.bot_user_id))
    authors = await db.scalars(select(OutgoingHookAuthor.user_id))
    return {*bots, *authors}


async def find_author(db: AsyncSession, hook_id: int, name: str) -> User | None:
    return await db.scalar(
        select(User)
        .join(OutgoingHookAuthor, OutgoingHookAuthor.user_id == User.id)
        .where(OutgoingHookAuthor.hook_id == hook_id, OutgoingHookAuthor.name == name)
    )


async def count_authors(db: AsyncSession, hook_id: int) -> int:
    found = await db.scalar(
        select(func.count())
        .select_from(OutgoingHookAuthor)
        .where(OutgoingHookAuthor.hook_id == hook_id)
    )
    return found or 0
