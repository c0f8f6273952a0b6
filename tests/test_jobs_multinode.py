"""Two app processes on one PostgreSQL database share the job queue: each job runs on
exactly one of them, exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from counterline.config import Settings
from counterline.jobs.models import Job
from counterline.jobs.queue import enqueue
from counterline.services import Services
from tests.conftest import BACKEND
from tests.support import job_kinds
from tests.support.nodes import Node

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(BACKEND != "postgresql", reason="several nodes need PostgreSQL"),
]
JOBS = 1_000


async def test_two_nodes_run_a_thousand_jobs_each_exactly_once(
    make_settings: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    services = Services.from_settings(make_settings())
    await job_kinds.create_effects_table(services.database)
    env = {
        "COUNTERLINE_DATABASE_URL": database_url,
        "COUNTERLINE_DATA_DIR": str(tmp_path),
        "COUNTERLINE_TASK_MODULES": job_kinds.MODULE,
        "COUNTERLINE_JOB_POLL_SECONDS": "0.05",
    }
    nodes = [Node(env, tmp_path / f"node-{index}.log").start() for index in range(2)]
    try:
        async with services.transaction() as unit:
            for index in range(JOBS):
                enqueue(unit, "test.record", {"label": str(index)})
        started = time.monotonic()
        while await done_count(services) < JOBS:
            assert time.monotonic() - started < 30, "the nodes did not finish in time"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # several more polls: nothing runs twice late
        effects = await job_kinds.recorded(services.database)
    finally:
        for node in nodes:
            node.stop()
        await services.database.dispose()

    runs = Counter(effect["job_id"] for effect in effects)
    assert len(runs) == JOBS and set(runs.values()) == {1}
    assert {effect["attempt"] for effect in effects} == {1}
    by_node = Counter(effect["pid"] for effect in effects)
    assert len(by_node) == 2, f"one node did all the work: {by_node}"


async def done_count(services: Services) -> int:
    async with services.reading() as unit:
        query = select(func.count()).where(Job.state == "done", Job.kind == "test.record")
        return await unit.session.scalar(query) or 0
