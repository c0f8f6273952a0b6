"""Durable jobs: written in the transaction of the change, run once after it commits,
retried with back-off, and never lost when the process dies (tests/support/job_kinds.py
has the job kinds these tests use)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from counterline.access_feed import AccessChange
from counterline.accounts.events import AccountChanged
from counterline.config import Settings
from counterline.db import utcnow
from counterline.jobs.models import Job
from counterline.jobs.queue import enqueue
from counterline.services import Services
from tests.cast import Cast
from tests.support import job_kinds
from tests.support.nodes import Node


@pytest.fixture
async def make_jobs_services(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[Callable[..., Awaitable[Services]]]:
    """Services whose runner knows the test kinds, driven by the test (not started)."""
    made: list[Services] = []

    async def make(**overrides: Any) -> Services:
        settings = make_settings(task_modules=[job_kinds.MODULE], job_retry_seconds=0, **overrides)
        services = Services.from_settings(settings)
        made.append(services)
        await job_kinds.create_effects_table(services.database)
        return services

    yield make
    for services in made:
        await services.database.dispose()


@pytest.fixture
async def jobs_services(make_jobs_services: Callable[..., Awaitable[Services]]) -> Services:
    return await make_jobs_services()


async def add_jobs(services: Services, *specs: dict[str, Any]) -> list[int]:
    """Enqueue jobs in one committed transaction: each spec is enqueue's arguments."""
    async with services.transaction() as unit:
        jobs = [enqueue(unit, **spec) for spec in specs]
        await unit.session.flush()
    return [job.id for job in jobs]


async def job_row(services: Services, job_id: int) -> Job:
    async with services.reading() as unit:
        job = await unit.session.get(Job, job_id)
    assert job is not None
    return job


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.05)


def node_env(database_url: str, directory: Path, **settings: str) -> dict[str, str]:
    env = {
        "COUNTERLINE_DATABASE_URL": database_url,
        "COUNTERLINE_DATA_DIR": str(directory),
        "COUNTERLINE_TASK_MODULES": job_kinds.MODULE,
        "COUNTERLINE_JOB_POLL_SECONDS": "0.05",
    }
    return env | {f"COUNTERLINE_{name.upper()}": value for name, value in settings.items()}


async def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_runs(
    jobs_services: Services,
) -> None:
    with pytest.raises(RuntimeError):
        async with jobs_services.transaction() as unit:
            enqueue(unit, "test.record", {"label": "rolled back"})
            raise RuntimeError("the change fails")

    assert await jobs_services.jobs.run_due() == 0
    assert await job_kinds.recorded(jobs_services.database) == []


async def test_committed_jobs_run_once_each_in_order_of_run_at_and_not_before(
    make_jobs_services: Callable[..., Awaitable[Services]],
) -> None:
    jobs_services = await make_jobs_services(job_batch_size=1)

    def record(label: str, run_at: timedelta) -> dict[str, Any]:
        return {"kind": "test.record", "payload": {"label": label}, "run_at": utcnow() + run_at}

    await add_jobs(
        jobs_services,
        record("second", -timedelta(seconds=2)),
        record("third", -timedelta(seconds=1)),
        record("later", timedelta(hours=1)),
        record("first", -timedelta(seconds=3)),
    )

    assert [await jobs_services.jobs.run_due() for _ in range(4)] == [1, 1, 1, 0]
    effects = await job_kinds.recorded(jobs_services.database)
    assert [effect["label"] for effect in effects] == ["first", "second", "third"]
    counts = await jobs_services.jobs.counts()
    assert (counts.waiting, counts.scheduled, counts.running) == (0, 1, 0)


async def test_a_failed_attempt_leaves_no_effect_and_the_retry_applies_it_once(
    jobs_services: Services,
) -> None:
    [job_id] = await add_jobs(jobs_services, {"kind": "test.flaky", "payload": {"fail_until": 1}})

    await jobs_services.jobs.run_due()  # attempt 1 records, then fails: rolled back
    await jobs_services.jobs.run_due()  # attempt 2 (job_retry_seconds=0: due at once)

    effects = await job_kinds.recorded(jobs_services.database)
    assert [(effect["job_id"], effect["attempt"]) for effect in effects] == [(job_id, 2)]
    job = await job_row(jobs_services, job_id)
    assert (job.state, job.attempts) == ("done", 2)
    assert "fails attempt 1 on purpose" in (job.last_error or "")
    assert jobs_services.jobs.stats.retried == 1


async def test_failing_jobs_back_off_doubling_then_fail_and_metrics_show_it(
    start_server: Callable[..., Any], services: Services
) -> None:
    await job_kinds.create_effects_table(services.database)
    server = start_server(
        task_modules=[job_kinds.MODULE], job_poll_seconds=0.05, job_retry_seconds=0.2
    )
    job_kinds.flaky_calls.clear()
    [job_id] = await add_jobs(
        services, {"kind": "test.flaky", "payload": {"fail_until": 99}, "max_attempts": 3}
    )

    async def failed() -> bool:
        return (await job_row(services, job_id)).state == "failed"

    await eventually(failed)
    times = [at for called_id, _, at in job_kinds.flaky_calls if called_id == job_id]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.2
    assert times[2] - times[1] >= 0.4
    assert await job_kinds.recorded(services.database) == []
    async with httpx.AsyncClient(base_url=server.url) as client:
        metrics = (await client.get("/metrics")).text
    assert "counterline_jobs_retried_total 2" in metrics
    assert "counterline_jobs_failed_total 1" in metrics
    assert 'counterline_jobs{state="failed"} 1' in metrics


async def test_a_runner_whose_lease_was_taken_over_cannot_run_or_finish_the_job(
    jobs_services: Services, make_jobs_services: Callable[..., Awaitable[Services]]
) -> None:
    slow = await make_jobs_services(job_lease_seconds=0.01)
    [job_id] = await add_jobs(jobs_services, {"kind": "test.record"})
    [stale] = await slow.jobs.claim()
    await asyncio.sleep(0.05)  # its lease runs out: another runner takes the job
    [taken] = await jobs_services.jobs.claim()
    await slow.jobs.run_one(stale)
    await jobs_services.jobs.run_one(taken)

    effects = await job_kinds.recorded(jobs_services.database)
    assert [(effect["job_id"], effect["attempt"]) for effect in effects] == [(job_id, 2)]
    assert (await job_row(jobs_services, job_id)).state == "done"


async def test_recurring_jobs_exist_once_however_many_processes_schedule_them(
    jobs_services: Services, make_settings: Callable[..., Settings]
) -> None:
    other = Services.from_settings(make_settings())
    try:
        await jobs_services.jobs.schedule_recurring()
        await other.jobs.schedule_recurring()
    finally:
        await other.database.dispose()

    async with jobs_services.reading() as unit:
        rows = (await unit.session.execute(select(Job.kind, Job.run_at))).all()
    assert sorted(kind for kind, _ in rows) == [
        "jobs.prune_finished",
        "portal.check_status",
        "site.purge_operational_data",
        "streams.prune_access_changes",
    ]
    # Each first run is one period away (the portal's checks: portal_check_seconds, 5 min).
    periods = {kind.name: kind.every for kind in jobs_services.jobs.kinds.values() if kind.every}
    assert all(run_at > utcnow() + periods[kind] - timedelta(minutes=1) for kind, run_at in rows)


async def make_recurring_jobs_due(services: Services) -> None:
    await services.jobs.schedule_recurring()
    async with services.transaction() as unit:
        await unit.session.execute(update(Job).values(run_at=utcnow() - timedelta(seconds=1)))


async def test_the_access_change_feed_loses_rows_a_day_old_to_its_recurring_job(
    jobs_services: Services, cast: Cast
) -> None:
    user_id = cast.people["wangfang"].id
    async with jobs_services.transaction() as unit:
        for age in (timedelta(days=2), timedelta(hours=23)):
            unit.session.add(AccessChange(user_id=user_id, changed_at=utcnow() - age))
    await make_recurring_jobs_due(jobs_services)

    recurring = [kind for kind in jobs_services.jobs.kinds.values() if kind.every]
    assert await jobs_services.jobs.run_due() == len(recurring)

    async with jobs_services.reading() as unit:
        kept = list(await unit.session.scalars(select(AccessChange.changed_at)))
        job = await unit.session.scalar(
            select(Job).where(Job.kind == "streams.prune_access_changes")
        )
    ages = [utcnow() - changed_at for changed_at in kept]
    assert max(ages) < timedelta(days=1)
    assert max(ages) > timedelta(hours=22)  # the day-young change is kept
    assert job is not None and (job.state, job.attempts) == ("queued", 0)
    assert job.run_at > utcnow() + timedelta(minutes=9)


async def test_finished_jobs_are_deleted_a_day_after_they_are_done(
    jobs_services: Services,
) -> None:
    old, recent = await add_jobs(jobs_services, {"kind": "test.record"}, {"kind": "test.record"})
    await jobs_services.jobs.run_due()
    async with jobs_services.transaction() as unit:
        two_days_ago = utcnow() - timedelta(days=2)
        await unit.session.execute(
            update(Job).where(Job.id == old).values(finished_at=two_days_ago)
        )
    await make_recurring_jobs_due(jobs_services)

    await jobs_services.jobs.run_due()

    async with jobs_services.reading() as unit:
        ids = set(await unit.session.scalars(select(Job.id).where(Job.state == "done")))
    assert old not in ids and recent in ids


async def test_subscribers_hear_only_committed_events_and_a_failing_one_harms_nothing(
    services: Services,
) -> None:
    heard: list[int] = []

    def broken(event: AccountChanged) -> None:
        raise RuntimeError("a broken subscriber")

    async def listener(event: AccountChanged) -> None:
        heard.append(event.user_id)

    services.committed.subscribe(AccountChanged, broken)
    services.committed.subscribe(AccountChanged, listener)
    with pytest.raises(RuntimeError, match="rolled back"):
        async with services.transaction() as unit:
            unit.emit(AccountChanged(user_id=1))
            raise RuntimeError("rolled back")
    async with services.transaction() as unit:
        unit.emit(AccountChanged(user_id=2))

    assert heard == [2]


async def test_a_job_committed_by_a_process_killed_before_running_it_runs_once_after_restart(
    jobs_services: Services, database_url: str, tmp_path: Path
) -> None:
    env = node_env(database_url, tmp_path, job_poll_seconds="3600")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.job_process", "survivor"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        job_id = int(process.stdout.readline().split()[1])
        assert process.stdout.readline().strip() == b"serving"
    finally:
        process.kill()
        process.wait(timeout=10)
    assert (await job_row(jobs_services, job_id)).state == "queued"
    assert await job_kinds.recorded(jobs_services.database) == []

    node = Node(node_env(database_url, tmp_path), tmp_path / "restarted.log").start()
    try:

        async def done() -> bool:
            return (await job_row(jobs_services, job_id)).state == "done"

        await eventually(done)
        await asyncio.sleep(0.3)  # several more polls: nothing runs it again
    finally:
        node.stop()
    effects = await job_kinds.recorded(jobs_services.database)
    assert [(effect["job_id"], effect["label"]) for effect in effects] == [(job_id, "survivor")]
    assert (await job_row(jobs_services, job_id)).attempts == 1


async def test_a_job_whose_process_dies_mid_run_runs_again_once_when_its_lease_ends(
    jobs_services: Services, database_url: str, tmp_path: Path
) -> None:
    marker = tmp_path / "hung"
    first = Node(node_env(database_url, tmp_path, job_lease_seconds="1"), tmp_path / "a.log")
    first.start()
    try:
        [job_id] = await add_jobs(
            jobs_services, {"kind": "test.hang_once", "payload": {"marker": str(marker)}}
        )

        async def hung() -> bool:
            return marker.exists()

        await eventually(hung)
    finally:
        first.kill()
    killed = await job_row(jobs_services, job_id)
    assert (killed.state, killed.attempts) == ("running", 1)

    second = Node(node_env(database_url, tmp_path), tmp_path / "b.log").start()
    try:

        async def done() -> bool:
            return (await job_row(jobs_services, job_id)).state == "done"

        await eventually(done)
    finally:
        second.stop()
    effects = await job_kinds.recorded(jobs_services.database)
    assert [(effect["job_id"], effect["attempt"]) for effect in effects] == [(job_id, 2)]
