"""The portal's status checks, a recurring durable job (``portal.check_status``, every
``portal_check_seconds``).

The job's handler runs in a write transaction; waiting on the network there would hold
the database's writer (on SQLite, every writer of the process) for as long as the slowest
system. So the handler only reads which addresses to ask and starts the round beside it;
the round checks them (bounded concurrency, a deadline per check: portal.checking), then
stores every result in one short transaction of its own. One round at a time per process:
a tick that finds the last round still running skips. A process that stops mid-round loses
that round; the next tick checks again.

The JobSet is made per process (``PortalChecks.jobs``, combined in services.py), since
its period is a setting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from counterline.config import Settings
from counterline.db import Unit
from counterline.jobs.registry import JobSet, RunningJob
from counterline.portal import actions
from counterline.portal.actions import Change
from counterline.portal.checking import DEFAULT_CONCURRENCY, CheckResult, Target, check_all
from counterline.tasks import stop_task

log = logging.getLogger(__name__)
JOB_KIND = "portal.check_status"

UnitOf = Callable[[], AbstractAsyncContextManager[Unit]]


class PortalChecks:
    def __init__(
        self,
        settings: Settings,
        reading: UnitOf,
        writing: UnitOf,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._settings = settings
        self._reading = reading
        self._writing = writing
        self.concurrency = concurrency
        self._round: asyncio.Task[list[Change]] | None = None
        self.jobs = JobSet()
        self.jobs.job(JOB_KIND, every=timedelta(seconds=settings.portal_check_seconds))(self._tick)

    async def _tick(self, unit: Unit, job: RunningJob) -> None:
        if self._round is not None and not self._round.done():
            return  # the last round is still running: it is this tick's
        targets = await actions.check_targets(unit)
        if targets:
            self._round = asyncio.create_task(self._run(targets), name="portal checks")

    async def _run(self, targets: Sequence[Target]) -> list[Change]:
        try:
            return await self.check(targets)
        except Exception:
            log.exception("portal status checks failed")
            return []

    async def run_round(self) -> list[Change]:
        """Check every active web entry now and store the results (tests, the CLI)."""
        async with self._reading() as unit:
            targets = await actions.check_targets(unit)
        return await self.check(targets)

    async def wait(self) -> None:
        """Until the round a tick started (if any) has ended."""
        if self._round is not None:
            await asyncio.wait([self._round])

    async def check(self, targets: Sequence[Target]) -> list[Change]:
        results = await self.ask(targets)
        async with self._writing() as unit:
            return await actions.store_results(
                unit,
                results,
                zone=self._settings.zone,
                language=self._settings.default_language,
            )

    async def ask(self, targets: Sequence[Target]) -> list[CheckResult]:
        return await check_all(
            targets,
            timeout=self._settings.portal_check_timeout_seconds,
            slow_ms=self._settings.portal_slow_ms,
            concurrency=self.concurrency,
        )

    async def stop(self) -> None:
        await stop_task(self._round)  # type: ignore[arg-type]
