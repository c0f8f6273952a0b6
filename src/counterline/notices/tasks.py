"""Automatic notice reminders: durable jobs at a set time before and after the due date
(``notice_remind_hours_before`` / ``_after``), enqueued when a notice is published or its due
date changes. A job whose due date is no longer the notice's does nothing."""

from __future__ import annotations

from counterline.db import Unit
from counterline.jobs.registry import JobSet, RunningJob
from counterline.notices import actions

jobs = JobSet()


@jobs.job(actions.REMIND_JOB)
async def remind(unit: Unit, job: RunningJob) -> None:
    await actions.remind_automatically(
        unit, int(job.payload["notice_id"]), str(job.payload["due_at"])
    )
