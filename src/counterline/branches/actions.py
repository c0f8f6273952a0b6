from __future__ import annotations

from counterline.audit.actions import record
from counterline.branches import queries
from counterline.branches.models import Branch
from counterline.db import Unit
from counterline.errors import UserError
from counterline.i18n import N_


def check_branch_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UserError(N_("Branch name must not be empty."))
    if len(name) > 100:
        raise UserError(N_("Branch name is too long (at most 100 characters)."))
    return name


async def create_branch(unit: Unit, name: str, *, actor_id: int | None = None) -> Branch:
    """Create a branch (``people.actions.add_branch`` also opens its room)."""
    name = check_branch_name(name)
    if await queries.find_branch_by_name(unit.session, name):
        raise UserError(N_("A branch named %(name)s already exists."), name=name)
    branch = Branch(name=name)
    unit.session.add(branch)
    await unit.session.flush()
    record(unit, "branch.added", actor_id=actor_id, target=f"branch:{branch.id}", name=name)
    return branch
