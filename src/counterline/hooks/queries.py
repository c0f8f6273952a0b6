"""Every query of incoming webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from counterline.accounts.models import User
from counterline.hooks.models import IncomingHook, IncomingHookAuthor
from counterline.rooms.models import Room

_Creator = aliased(User)


async def find_live_hook(db: AsyncSession, token_hash: str) -> Row[Any] | None:
    """The hook behind a secret, if not revoked: (hook, its bot, its room's name)."""
    result = await db.execute(
        select(IncomingHook, User, Room.name)
        .join(User, User.id == IncomingHook.bot_user_id)
        .join(Room, Room.id == IncomingHook.room_id)
        .where(IncomingHook.token_hash == token_hash, IncomingHook.revoked_at.is_(None))
    )
    return result.first()


async def find_hook(db: AsyncSession, hook_id: int) -> IncomingHook | None:
    return await db.get(IncomingHook, hook_id)


async def find_author(db: AsyncSession, hook_id: int, name: str) -> User | None:
    """The bot a hook posts as under the name ``name``, if it has posted so before."""
    return await db.scalar(
        select(User)
        .join(IncomingHookAuthor, IncomingHookAuthor.user_id == User.id)
        .where(IncomingHookAuthor.hook_id == hook_id, IncomingHookAuthor.name == name)
    )


async def count_authors(db: AsyncSession, hook_id: int) -> int:
    found = await db.scalar(
        select(func.count())
        .select_from(IncomingHookAuthor)
        .where(IncomingHookAuthor.hook_id == hook_id)
    )
    return found or 0


async def list_live_hooks(db: AsyncSession) -> Sequence[Row[Any]]:
    """Every hook not revoked, oldest first, with its room's name and its creator's."""
    result = await db.execute(
        select(IncomingHook, Room.name.label("room_name"), _Creator.display_name.label("creator"))
        .join(Room, Room.id == IncomingHook.room_id)
        .outerjoin(_Creator, _Creator.id == IncomingHook.created_by_id)
        .where(IncomingHook.revoked_at.is_(None))
        .order_by(IncomingHook.id)
    )
    return result.all()
