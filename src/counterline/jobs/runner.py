"""The job runner: one task per process claims due jobs and runs their handlers.

A handler runs in a write transaction that also marks its job done, so its database
effects and the ``done`` mark commit together or not at all: a job whose process dies
mid-run is claimed again once its lease has run out, and its half-done work was rolled
back. Effects outside the database (a webhook) can happen twice in that case; handlers
use ``RunningJob.id`` as their idempotency key. A failed attempt is retried after a
delay that doubles each time, until the job's ``max_attempts``; then it is ``failed``
(a recurring job is scheduled again instead).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta

from counterline.config import Settings
from counterline.db import Unit, utcnow
from counterline.jobs import queries
from counterline.jobs.queries import Claim, JobCounts
from counterline.jobs.registry import JobKind, RunningJob
from counterline.measures import Summary

log = logging.getLogger(__name__)
MAX_RETRY_DELAY = timedelta(hours=1)
MAX_ERROR_CHARS = 4000

UnitOf = Callable[[], AbstractAsyncContextManager[Unit]]


@dataclass
class JobStats:
    """What this process's runner has done, for /metrics."""

    succeeded: int = 0
    retried: int = 0
    failed: int = 0
    run_seconds: Summary = field(default_factory=Summary)


def runner_id() -> str:
    """Who holds a claim: readable in the table, unique per process start."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    def __init__(
        self,
        kinds: Mapping[str, JobKind],
        reading: UnitOf,
        writing: UnitOf,
        settings: Settings,
    ) -> None:
        self.kinds = dict(kinds)
        self._reading = reading
        self._writing = writing
        self._settings = settings
        self.owner = runner_id()
        self.stats = JobStats()

    async def counts(self) -> JobCounts:
        async with self._reading() as unit:
            return await queries.count_jobs(unit.session, utcnow())

    async def schedule_recurring(self) -> None:
        """Make sure each recurring kind has its job; the first run is one period away."""
        recurring = [kind for kind in self.kinds.values() if kind.every is not None]
        if not recurring:
            return
        async with self._writing() as unit:
            for kind in recurring:
                assert kind.every is not None
                await queries.schedule_once(unit.session, kind.name, utcnow() + kind.every)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.job_poll_seconds)
            try:
                while await self.run_due() == self._settings.job_batch_size:
                    pass  # a full batch: there may be more waiting
            except Exception:
                log.exception("running jobs failed; trying again")

    async def run_due(self) -> int:
        """Claim a batch of due jobs and run them side by side (each in its own
        transaction; on SQLite they take turns as writers, in ``run_at`` order); returns
        how many were claimed. Cancelled, it gives back the jobs it has not finished."""
        jobs = await self.claim()
        unfinished = {job.id: job for job in jobs}

        async def run(job: RunningJob) -> None:
            await self.run_one(job)
            del unfinished[job.id]

        try:
            async with asyncio.TaskGroup() as group:
                for job in jobs:
                    group.create_task(run(job))
        except asyncio.CancelledError:
            await self._release(list(unfinished.values()))
            raise
        return len(jobs)

    async def claim(self) -> list[RunningJob]:
        """Take a batch of due jobs (kinds this process knows) for this runner."""
        kinds = list(self.kinds)
        now = utcnow()
        if not kinds:
            return []
        async with self._reading() as unit:
            if not await queries.any_due(unit.session, kinds, now):
                return []
        lease = timedelta(seconds=self._settings.job_lease_seconds)
        async with self._writing() as unit:
            rows = await queries.claim(
                unit.session,
                kinds=kinds,
                now=now,
                limit=self._settings.job_batch_size,
                owner=self.owner,
                locked_until=now + lease,
            )
        default_attempts = self._settings.job_max_attempts
        jobs = [
            RunningJob(job_id, kind, payload, attempt, max_attempts or default_attempts, run_at)
            for job_id, kind, payload, attempt, max_attempts, run_at in rows
        ]
        return sorted(jobs, key=lambda job: (job.run_at, job.id))

    def _claim_of(self, job: RunningJob) -> Claim:
        return Claim(job.id, self.owner, job.attempt)

    async def run_one(self, job: RunningJob) -> None:
        kind = self.kinds[job.kind]
        if job.attempt > job.max_attempts:
            # Claimed again after its last attempt's lease ran out: that process died.
            await self._failed(job, kind, "the process running its last attempt stopped")
            return
        started = time.perf_counter()
        try:
            if kind.outside is not None:
                await kind.outside(job)
            async with self._writing() as unit:
                if await self._finish(unit, job, kind):
                    await kind.handler(unit, job)
                else:
                    return  # our lease ran out and another runner has it now
        except Exception:
            log.warning("job %s (%s) attempt %s failed", job.id, job.kind, job.attempt)
            await self._failed(job, kind, traceback.format_exc()[-MAX_ERROR_CHARS:])
            return
        finally:
            self.stats.run_seconds.observe(time.perf_counter() - started)
        self.stats.succeeded += 1

    async def _finish(self, unit: Unit, job: RunningJob, kind: JobKind) -> bool:
        """Mark the job done (or, recurring, due again) in the handler's transaction."""
        now = utcnow()
        if kind.every is None:
            return await queries.mark_done(unit.session, self._claim_of(job), now)
        return await queries.requeue(
            unit.session, self._claim_of(job), now + kind.every, fresh=True
        )

    async def _failed(self, job: RunningJob, kind: JobKind, error: str) -> None:
        now = utcnow()
        claim = self._claim_of(job)
        async with self._writing() as unit:
            if job.attempt < job.max_attempts:
                retry_at = now + self.retry_delay(job.attempt)
                if await queries.requeue(unit.session, claim, retry_at, error=error):
                    self.stats.retried += 1
                return
            if kind.every is not None:
                again_at = now + kind.every
                settled = await queries.requeue(
                    unit.session, claim, again_at, error=error, fresh=True
                )
            else:
                settled = await queries.mark_failed(unit.session, claim, now, error)
            if settled:
                self.stats.failed += 1
                log.error("job %s (%s) failed after %s attempts", job.id, job.kind, job.attempt)

    def retry_delay(self, attempt: int) -> timedelta:
        """After attempt n, wait ``job_retry_seconds`` × 2ⁿ⁻¹ (at most an hour)."""
        doublings = min(attempt - 1, 20)  # 2**20 × anything sane is past the cap already
        delay = timedelta(seconds=self._settings.job_retry_seconds * 2**doublings)
        return min(delay, MAX_RETRY_DELAY)

    async def _release(self, jobs: Sequence[RunningJob]) -> None:
        async with self._writing() as unit:
            for job in jobs:
                await queries.release(unit.session, self._claim_of(job))
