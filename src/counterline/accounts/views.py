"""Turning accounts into what the API and the pages show."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import lru_cache
from typing import Protocol

from pydantic_core import to_json
from pypinyin import lazy_pinyin

from counterline.accounts import queries
from counterline.accounts.cache import DirectoryCache
from counterline.accounts.models import User
from counterline.accounts.schemas import UserOut
from counterline.branches import queries as branch_queries
from counterline.branches.models import Branch
from counterline.db import Unit


class OnlineStatus(Protocol):
    """Who is online (presence's tracker): asked, not imported, so accounts stays below
    presence in the layers."""

    def is_online(self, user_id: int) -> bool: ...


def user_out(user: User, branch: Branch, presence: OnlineStatus) -> UserOut:
    return _user_out(user, branch.id, branch.name, presence)


def _user_out(user: User, branch_id: int, branch_name: str, presence: OnlineStatus) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        branch_id=branch_id,
        branch_name=branch_name,
        online=presence.is_online(user.id),
        last_seen_at=user.last_seen_at,
    )


@lru_cache(maxsize=4096)
def name_pinyin(name: str) -> tuple[str, str]:
    """A display name's pinyin, lowercase without tones or spaces, and its initials (王芳 →
    "wangfang", "wf"), for the mentions autocomplete. Computed once per name."""
    syllables = [word for part in lazy_pinyin(name) for word in part.lower().split()]
    return "".join(syllables), "".join(word[0] for word in syllables)


async def cached_directory(
    cache: DirectoryCache,
    reading: Callable[[], AbstractAsyncContextManager[Unit]],
    presence: OnlineStatus,
) -> tuple[bytes, str]:
    """The directory's JSON and ETag: the cache's copy, else read afresh (and held unless a
    change came meanwhile: ``DirectoryCache.put``)."""
    cached = cache.get()
    if cached is not None:
        return cached
    generation = cache.generation
    async with reading() as unit:
        encoded = await directory_json(unit, presence)
    return cache.put(encoded, generation)


async def directory_json(unit: Unit, presence: OnlineStatus) -> bytes:
    """Every active user, as UserList's JSON, built without a model per user."""
    users = [
        {
            "id": row.id,
            "username": row.username,
            "display_name": row.display_name,
            "role": row.role.value,
            "branch_id": row.branch_id,
            "branch_name": row.branch_name,
            "online": presence.is_online(row.id),
            "last_seen_at": row.last_seen_at,
            "pinyin": name_pinyin(row.display_name)[0],
            "initials": name_pinyin(row.display_name)[1],
        }
        for row in await queries.list_directory(unit.session)
    ]
    return to_json({"users": users})


async def describe(unit: Unit, user: User, presence: OnlineStatus) -> UserOut:
    """The user as every page's account menu shows her (her branch's name read as Core:
    loading a Branch through the session cost as much as a page of history)."""
    branch = await branch_queries.find_branch_name(unit.session, user.branch_id)
    assert branch is not None
    return _user_out(user, *branch, presence)
