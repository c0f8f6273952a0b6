"""First start: an empty database gets the company room, a head-office branch and an admin."""

from __future__ import annotations

from dataclasses import dataclass

from counterline.accounts.models import Role
from counterline.accounts.queries import count_users
from counterline.branches.queries import find_branch_by_name
from counterline.people.actions import add_branch, add_user
from counterline.rooms.actions import open_company_room
from counterline.services import Services

HEAD_OFFICE = "总部"
FIRST_ADMIN = "admin"


@dataclass
class FirstAdmin:
    username: str
    password: str


async def ensure_first_admin(services: Services) -> FirstAdmin | None:
    """Create the first administrator if there are no users; returns its one-time password."""
    async with services.transaction() as unit:
        await open_company_room(unit)
        if await count_users(unit.session):
            return None
        branch = await find_branch_by_name(unit.session, HEAD_OFFICE)
        if branch is None:
            branch = await add_branch(unit, HEAD_OFFICE)
        _, password = await add_user(
            unit, username=FIRST_ADMIN, display_name="管理员", branch=branch, role=Role.admin
        )
    assert password is not None
    return FirstAdmin(FIRST_ADMIN, password)
