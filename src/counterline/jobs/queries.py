"""All SQL of the job queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.jobs.models import Job, JobState

QUEUED, RUNNING, DONE, FAILED = (state.value for state in JobState)


@dataclass(frozen=True)
class Claim:
    """One runner's claim on a job: only its holder may settle the job."""

    job_id: int
    owner: str
    attempt: int


@dataclass(frozen=True)
class JobCounts:
    waiting: int  # due and not claimed yet
    scheduled: int  # queued for later
    running: int
    failed: int


def _due(kinds: Sequence[str], now: datetime) -> ColumnElement[bool]:
    """Queued and due, or running on a lease that has run out (its runner died)."""
    return and_(
        Job.kind.in_(kinds),
        or_(
            and_(Job.state == QUEUED, Job.run_at <= now),
            and_(Job.state == RUNNING, Job.locked_until < now),
        ),
    )


async def any_due(db: AsyncSession, kinds: Sequence[str], now: datetime) -> bool:
    return await db.scalar(select(Job.id).where(_due(kinds, now)).limit(1)) is not None


async def claim(
    db: AsyncSession,
    *,
    kinds: Sequence[str],
    now: datetime,
    limit: int,
    owner: str,
    locked_until: datetime,
) -> Sequence[Row[Any]]:
    """Take up to ``limit`` due jobs, oldest ``run_at`` first. On PostgreSQL rows another
    transaction holds (claiming, or running a handler) are skipped, not waited for;
    SQLite has one writer at a time."""
    chosen = (
        select(Job.id)
        .where(_due(kinds, now))
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await db.execute(
        update(Job)
        .where(Job.id.in_(chosen.scalar_subquery()))
        .values(
            state=RUNNING, locked_by=owner, locked_until=locked_until, attempts=Job.attempts + 1
        )
        .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts, Job.run_at)
        .execution_options(synchronize_session=False)
    )
    return result.all()


async def _settle(db: AsyncSession, claim: Claim, **values: Any) -> bool:
    """Change a job only while ``claim`` still holds it. On PostgreSQL the update also
    locks the row until the transaction ends, so no other runner can claim it then."""
    result = await db.execute(
        update(Job)
        .where(
            Job.id == claim.job_id,
            Job.state == RUNNING,
            Job.locked_by == claim.owner,
            Job.attempts == claim.attempt,
        )
        .values(locked_by=None, locked_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def mark_done(db: AsyncSession, claim: Claim, now: datetime) -> bool:
    return await _settle(db, claim, state=DONE, finished_at=now)


async def requeue(
    db: AsyncSession,
    claim: Claim,
    run_at: datetime,
    *,
    error: str | None = None,
    fresh: bool = False,
) -> bool:
    """Queue the job again at ``run_at``: a retry, or (``fresh``, attempts from zero) the
    next run of a recurring job."""
    values: dict[str, Any] = {"state": QUEUED, "run_at": run_at, "last_error": error}
    if fresh:
        values["attempts"] = 0
    return await _settle(db, claim, **values)


async def mark_failed(db: AsyncSession, claim: Claim, now: datetime, error: str) -> bool:
    return await _settle(db, claim, state=FAILED, finished_at=now, last_error=error)


async def release(db: AsyncSession, claim: Claim) -> bool:
    """Give back a job claimed but not run (the process is stopping): due again at once,
    the attempt not counted."""
    return await _settle(db, claim, state=QUEUED, attempts=Job.attempts - 1)


async def schedule_once(db: AsyncSession, kind: str, run_at: datetime) -> None:
    """Make sure the one job of a recurring kind exists (every node may ask at once)."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    await db.execute(
        dialect.insert(Job)
        .values(kind=kind, unique_key=kind, payload={}, run_at=run_at, state=QUEUED)
        .on_conflict_do_nothing(index_elements=[Job.unique_key])
    )


async def count_jobs(db: AsyncSession, now: datetime) -> JobCounts:
    queued = Job.state == QUEUED
    row = (
        await db.execute(
            select(
                func.count().filter(and_(queued, Job.run_at <= now)),
                func.count().filter(and_(queued, Job.run_at > now)),
                func.count().filter(Job.state == RUNNING),
                func.count().filter(Job.state == FAILED),
            ).where(Job.state != DONE)
        )
    ).one()
    return JobCounts(*row)


async def delete_finished(db: AsyncSession, done_before: datetime, failed_before: datetime) -> None:
    await db.execute(
        delete(Job).where(
            or_(
                and_(Job.state == DONE, Job.finished_at < done_before),
                and_(Job.state == FAILED, Job.finished_at < failed_before),
            )
        )
    )
