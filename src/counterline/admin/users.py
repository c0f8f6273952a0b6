"""The users console's actions (API and pages): each reuses the accounts and people
actions the CLI calls, which write their audit entries; this module adds the reading, the
few rules of the console (an admin cannot lock themselves out) and renaming."""

from __future__ import annotations

from counterline.accounts import actions as accounts
from counterline.accounts.events import AccountChanged
from counterline.accounts.models import Role, User
from counterline.admin import user_queries as queries
from counterline.admin.user_queries import UserFilters
from counterline.admin.user_schemas import UserPage, UserPatch, UserRowOut
from counterline.audit.actions import record
from counterline.branches.models import Branch
from counterline.db import Unit
from counterline.errors import NotFound, UserError
from counterline.i18n import N_
from counterline.people import actions as people

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
ONLY_ADMINS = N_("Only administrators can manage users.")
NO_SUCH_USER = N_("There is no such user.")
NO_SUCH_BRANCH = N_("There is no such branch.")
NOT_YOURSELF = N_("You cannot deactivate yourself or take away your own administrator role.")


async def page_of_users(unit: Unit, filters: UserFilters) -> UserPage:
    rows = await queries.list_users(unit.session, filters)
    total = await queries.count_users(unit.session, filters)
    return UserPage(
        users=[UserRowOut.model_validate(row._asdict()) for row in rows],
        total=total,
        offset=filters.offset,
        limit=filters.limit,
    )


async def row_of(unit: Unit, user_id: int) -> UserRowOut:
    """One account as the table shows it (after a change: flushed, not yet committed)."""
    await unit.session.flush()
    rows = await queries.list_users(unit.session, UserFilters(user_id=user_id, limit=1))
    return UserRowOut.model_validate(rows[0]._asdict())


async def get_user(unit: Unit, user_id: int) -> User:
    user = await unit.session.get(User, user_id)
    if user is None:
        raise NotFound(NO_SUCH_USER)
    return user


async def get_branch(unit: Unit, branch_id: int) -> Branch:
    branch = await unit.session.get(Branch, branch_id)
    if branch is None:
        raise NotFound(NO_SUCH_BRANCH)
    return branch


async def create(
    unit: Unit, actor: User, *, username: str, display_name: str, branch_id: int, role: Role
) -> tuple[User, str]:
    """A new account in its home rooms, with a one-time password (returned, shown once)."""
    branch = await get_branch(unit, branch_id)
    user, one_time = await people.add_user(
        unit,
        username=username,
        display_name=display_name,
        branch=branch,
        role=role,
        actor_id=actor.id,
    )
    assert one_time is not None
    return user, one_time


async def rename(unit: Unit, user: User, display_name: str, *, actor_id: int) -> None:
    """Change the name a user is shown by (their past messages show the new name too)."""
    display_name = accounts.check_display_name(display_name)
    if user.display_name == display_name:
        return
    previous, user.display_name = user.display_name, display_name
    unit.emit(AccountChanged(user_id=user.id))
    record(
        unit,
        "user.renamed",
        actor_id=actor_id,
        target=f"user:{user.id}",
        from_name=previous,
        to_name=display_name,
    )


async def update(unit: Unit, actor: User, user_id: int, patch: UserPatch) -> User:
    """Rename, move and give another role, each change audited by its own action."""
    user = await get_user(unit, user_id)
    if patch.role is not None and user.id == actor.id and patch.role != Role.admin:
        raise UserError(NOT_YOURSELF)
    if patch.display_name is not None:
        await rename(unit, user, patch.display_name, actor_id=actor.id)
    if patch.branch_id is not None:
        branch = await get_branch(unit, patch.branch_id)
        await people.move_user(unit, user, branch, actor_id=actor.id)
    if patch.role is not None:
        await accounts.change_role(unit, user, patch.role, actor_id=actor.id)
    return user


async def set_active(unit: Unit, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (sessions and API tokens end; history keeps the name) or reactivate."""
    user = await get_user(unit, user_id)
    if not active and user.id == actor.id:
        raise UserError(NOT_YOURSELF)
    await accounts.set_active(unit, user, active, actor_id=actor.id)
    return user


async def reset_password(unit: Unit, actor: User, user_id: int) -> tuple[User, str]:
    user = await get_user(unit, user_id)
    return user, await accounts.reset_password(unit, user, actor_id=actor.id)


async def unlock(unit: Unit, actor: User, user_id: int) -> tuple[User, int]:
    user = await get_user(unit, user_id)
    return user, await accounts.unlock_user(unit, user, actor.id)
