"""Turning accounts into what the API and the pages show."""

from __future__ import annotations

from counterline.accounts import queries
from counterline.accounts.models import User
from counterline.accounts.schemas import UserOut
from counterline.branches.models import Branch
from counterline.db import Unit
from counterline.presence.tracker import PresenceTracker


def user_out(user: User, branch: Branch, presence: PresenceTracker) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        branch_id=branch.id,
        branch_name=branch.name,
        online=presence.is_online(user.id),
        last_seen_at=user.last_seen_at,
    )


async def list_users(unit: Unit, presence: PresenceTracker) -> list[UserOut]:
    rows = await queries.list_users_with_branches(unit.session)
    return [user_out(user, branch, presence) for user, branch in rows]


async def describe(unit: Unit, user: User, presence: PresenceTracker) -> UserOut:
    branch = await unit.session.get(Branch, user.branch_id)
    assert branch is not None
    return user_out(user, branch, presence)
