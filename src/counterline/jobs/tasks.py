"""The queue's own upkeep: finished jobs are kept a while for the record, then deleted."""

from __future__ import annotations

from datetime import timedelta

from counterline.db import Unit, utcnow
from counterline.jobs import queries
from counterline.jobs.registry import JobSet, RunningJob

KEEP_DONE = timedelta(days=1)
KEEP_FAILED = timedelta(days=30)

jobs = JobSet()


@jobs.job("jobs.prune_finished", every=timedelta(hours=1))
async def prune_finished(unit: Unit, job: RunningJob) -> None:
    now = utcnow()
    await queries.delete_finished(unit.session, now - KEEP_DONE, now - KEEP_FAILED)
