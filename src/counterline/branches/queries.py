from __future__ import annotations

from sqlalchemy import select
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
