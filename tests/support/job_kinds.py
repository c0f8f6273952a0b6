"""Job kinds for the tests, loaded by ``COUNTERLINE_TASK_MODULES=tests.support.job_kinds``
(or ``Settings(task_modules=[...])``). Their effects land in ``job_effects``, a table of
the tests only, which ``create_effects_table`` adds to a test database."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from counterline.db import Database, Unit
from counterline.jobs.registry import JobSet, RunningJob

MODULE = __name__
metadata = MetaData()
effects = Table(
    "job_effects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, nullable=False),
    Column("label", String(50), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
)
# (job id, attempt, monotonic time) of every call of test.flaky in this process.
flaky_calls: list[tuple[int, int, float]] = []

jobs = JobSet()


@jobs.job("test.record")
async def record(unit: Unit, job: RunningJob) -> None:
    await unit.session.execute(
        insert(effects).values(
            job_id=job.id,
            label=str(job.payload.get("label", "")),
            attempt=job.attempt,
            pid=os.getpid(),
        )
    )


@jobs.job("test.flaky")
async def flaky(unit: Unit, job: RunningJob) -> None:
    """Records its effect, then fails while ``attempt <= payload["fail_until"]``."""
    flaky_calls.append((job.id, job.attempt, time.monotonic()))
    await record(unit, job)
    if job.attempt <= job.payload["fail_until"]:
        raise RuntimeError(f"test.flaky fails attempt {job.attempt} on purpose")


@jobs.job("test.hang_once")
async def hang_once(unit: Unit, job: RunningJob) -> None:
    """The first run creates the marker file and hangs (the test kills its process);
    a later run records its effect."""
    marker = Path(job.payload["marker"])
    if not marker.exists():
        marker.touch()
        await asyncio.sleep(3600)
    await record(unit, job)


async def create_effects_table(database: Database) -> None:
    async with database.engine.execution_options(writer=True).begin() as connection:
        await connection.run_sync(metadata.create_all)


async def recorded(database: Database) -> list[dict[str, Any]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(select(effects).order_by(effects.c.id))
        return [dict(row._mapping) for row in rows]
