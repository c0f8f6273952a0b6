"""Jobs of the access-change feed."""

from __future__ import annotations

from datetime import timedelta

from counterline.db import Unit, utcnow
from counterline.jobs.registry import JobSet, RunningJob
from counterline.streams import queries

# Every node reads the feed about once a second (follower.py); a day is far more than
# any node lags behind, and the rows say who lost access when, for a while.
KEEP_CHANGES = timedelta(days=1)

jobs = JobSet()


@jobs.job("streams.prune_access_changes", every=timedelta(minutes=10))
async def prune_access_changes(unit: Unit, job: RunningJob) -> None:
    await queries.delete_changes_before(unit.session, utcnow() - KEEP_CHANGES)
