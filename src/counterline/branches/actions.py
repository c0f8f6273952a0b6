from __future__ import annotations

from counterline.audit.actions import record
from counterline.branches import queries
from counterline.branches.models import Branch
from counterline.db import Unit, utcnow
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


async def rename_branch(
    unit: Unit, branch: Branch, name: str, *, actor_id: int | None = None, client_ip: str = ""
) -> bool:
    """Give the branch a new name (no other branch may have it); whether it changed.
    ``people.actions.rename_branch`` renames its room with it."""
    name = check_branch_name(name)
    if name == branch.name:
        return False
    taken = await queries.find_branch_by_name(unit.session, name)
    if taken is not None and taken.id != branch.id:
        raise UserError(N_("A branch named %(name)s already exists."), status_code=409, name=name)
    old_name, branch.name = branch.name, name
    await unit.session.flush()
    record(
        unit,
        "branch.renamed",
        actor_id=actor_id,
        target=f"branch:{branch.id}",
        client_ip=client_ip,
        old_name=old_name,
        name=name,
    )
    return True


def set_archived(
    unit: Unit, branch: Branch, archived: bool, *, actor_id: int | None = None, client_ip: str = ""
) -> bool:
    """Archive the branch (or bring it back); whether that changed anything. The caller
    checks it has no active users and archives its room."""
    if (branch.archived_at is not None) == archived:
        return False
    branch.archived_at = utcnow() if archived else None
    record(
        unit,
        "branch.archived" if archived else "branch.unarchived",
        actor_id=actor_id,
        target=f"branch:{branch.id}",
        client_ip=client_ip,
        name=branch.name,
    )
    return True
