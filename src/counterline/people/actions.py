from __future__ import annotations

from counterline.accounts import actions as accounts
from counterline.accounts.models import Role, User
from counterline.branches import actions as branches
from counterline.branches.models import Branch
from counterline.db import Unit
from counterline.rooms.actions import (
    move_between_branch_rooms,
    open_branch_room,
    place_in_home_rooms,
)


async def add_branch(unit: Unit, name: str, *, actor_id: int | None = None) -> Branch:
    """Create a branch and its branch room."""
    branch = await branches.create_branch(unit, name, actor_id=actor_id)
    await open_branch_room(unit, branch)
    return branch


async def add_user(
    unit: Unit,
    *,
    username: str,
    display_name: str,
    branch: Branch,
    role: Role,
    password: str | None = None,
    prepared: accounts.PreparedPassword | None = None,
    actor_id: int | None = None,
) -> tuple[User, str | None]:
    """Create a user in their home rooms (the company room and their branch's). Without a
    password, returns a one-time one."""
    user, one_time = await accounts.create_user(
        unit,
        username=username,
        display_name=display_name,
        branch=branch,
        role=role,
        password=password,
        prepared=prepared,
        actor_id=actor_id,
    )
    await place_in_home_rooms(unit, user, branch)
    return user, one_time


async def move_user(unit: Unit, user: User, new_branch: Branch, *, actor_id: int | None) -> None:
    """Move a user to another branch and its room; their past messages keep the branch
    they had."""
    old_branch = await accounts.change_branch(unit, user, new_branch, actor_id=actor_id)
    if old_branch is not None:
        await move_between_branch_rooms(unit, user, old_branch, new_branch)
