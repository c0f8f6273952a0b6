from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.branches.models import Branch


async def find_branch_by_name(db: AsyncSession, name: str) -> Branch | None:
    return await db.scalar(select(Branch).where(Branch.name == name))


async def list_branches(db: AsyncSession) -> list[Branch]:
    return list(await db.scalars(select(Branch).order_by(Branch.name)))


async def branch_names(db: AsyncSession, branch_ids: set[int]) -> dict[int, str]:
    if not branch_ids:
        return {}
    rows = await db.execute(select(Branch.id, Branch.name).where(Branch.id.in_(branch_ids)))
    return dict(rows.all())


async def find_branch(db: AsyncSession, branch_id: int) -> Branch | None:
    return await db.get(Branch, branch_id)


_NAME = select(Branch.id, Branch.name).where(Branch.id == bindparam("branch_id"))


async def find_branch_name(db: AsyncSession, branch_id: int) -> tuple[int, str] | None:
    """(id, name) of a branch: on every page's account menu, so built once, run as Core."""
    connection = await db.connection()
    row = (await connection.execute(_NAME, {"branch_id": branch_id})).first()
    return None if row is None else (row.id, row.name)
