"""The site settings' SQL, and the retention job's deletes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import LoginAttempt, Session
from counterline.jobs.models import Job, JobState
from counterline.site.models import SiteSetting


async def stored_settings(db: AsyncSession) -> dict[str, Any]:
    return dict((await db.execute(select(SiteSetting.key, SiteSetting.value))).all())


async def settings_rows(db: AsyncSession) -> dict[str, SiteSetting]:
    return {row.key: row for row in await db.scalars(select(SiteSetting))}


async def purge_operational(db: AsyncSession, before: datetime) -> dict[str, int]:
    """Delete login attempts made, sessions last used and jobs finished before ``before``;
    how many of each. Messages, their history and the audit log are never touched."""
    attempts = await db.execute(delete(LoginAttempt).where(LoginAttempt.at < before))
    sessions = await db.execute(delete(Session).where(Session.last_used_at < before))
    jobs = await db.execute(
        delete(Job).where(
            Job.state.in_((JobState.DONE.value, JobState.FAILED.value)),
            Job.finished_at < before,
        )
    )
    return {
        "login_attempts": attempts.rowcount or 0,  # type: ignore[attr-defined]
        "sessions": sessions.rowcount or 0,  # type: ignore[attr-defined]
        "jobs": jobs.rowcount or 0,  # type: ignore[attr-defined]
    }
