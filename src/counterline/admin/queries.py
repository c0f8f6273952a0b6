"""The audit log's SQL for the viewer: a filtered page, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import User
from counterline.audit.models import AuditEntry


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilters:
    """Every filter narrows; ``action`` matches itself and the actions under it (``login``
    matches ``login.failed``)."""

    action: str | None = None
    actor: str | None = None  # a username
    target: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    before_id: int | None = None
    limit: int = 50


async def list_entries(
    db: AsyncSession, filters: AuditFilters
) -> Sequence[Row[tuple[AuditEntry, str | None, str | None]]]:
    """Up to ``limit + 1`` entries (the extra one says an older page exists), each with its
    actor's username and display name (None for entries of nobody, like failed logins)."""
    query = (
        select(AuditEntry, User.username, User.display_name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .order_by(AuditEntry.id.desc())
        .limit(filters.limit + 1)
    )
    if filters.action:
        query = query.where(
            or_(
                AuditEntry.action == filters.action,
                AuditEntry.action.startswith(f"{filters.action}.", autoescape=True),
            )
        )
    if filters.actor:
        query = query.where(User.username == filters.actor)
    if filters.target:
        query = query.where(AuditEntry.target == filters.target)
    if filters.start is not None:
        query = query.where(AuditEntry.at >= filters.start)
    if filters.end is not None:
        query = query.where(AuditEntry.at < filters.end)
    if filters.before_id is not None:
        query = query.where(AuditEntry.id < filters.before_id)
    return (await db.execute(query)).all()
