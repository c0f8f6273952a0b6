"""Looking at what a test stored: row counts straight from the database."""

from __future__ import annotations

from sqlalchemy import func, select

from counterline.services import Services


async def count_rows(services: Services, model: type) -> int:
    """How many rows ``model``'s table holds now."""
    async with services.reading() as unit:
        return await unit.session.scalar(select(func.count()).select_from(model)) or 0
