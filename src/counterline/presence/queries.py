from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import User


async def set_last_seen(db: AsyncSession, user_ids: Collection[int], at: datetime) -> None:
    await db.execute(update(User).where(User.id.in_(user_ids)).values(last_seen_at=at))
