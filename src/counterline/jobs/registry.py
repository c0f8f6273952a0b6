"""Job kinds and their handlers, declared by each capability in its ``tasks.py``::

    jobs = JobSet()

    @jobs.job("streams.prune_access_changes", every=timedelta(minutes=10))
    async def prune_access_changes(unit: Unit, job: RunningJob) -> None: ...

The app's wiring (``services.py``) combines the sets; this package imports none.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from counterline.db import Unit


@dataclass(frozen=True)
class RunningJob:
    """What a handler is told about the job it runs. ``id`` is a good idempotency key
    for effects outside the database (a webhook): those may happen more than once."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    run_at: datetime


Handler = Callable[[Unit, RunningJob], Awaitable[None]]
OutsideHandler = Callable[[RunningJob], Awaitable[None]]


async def _nothing(unit: Unit, job: RunningJob) -> None:
    """The in-transaction part of an outside job: only the done mark."""


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    every: timedelta | None = None
    # Runs first, outside any transaction (a call over the network: a handler's transaction
    # holds SQLite's one writer); the job is marked done in a short transaction after it.
    outside: OutsideHandler | None = None


class JobSet:
    """The job kinds one module declares."""

    def __init__(self) -> None:
        self.kinds: dict[str, JobKind] = {}

    def job(self, name: str, *, every: timedelta | None = None) -> Callable[[Handler], Handler]:
        """Register the decorated handler for ``name``; with ``every``, the kind is
        recurring: one job of it always exists and runs again that long after it ends."""

        def register(handler: Handler) -> Handler:
            if name in self.kinds:
                raise ValueError(f"job kind {name!r} declared twice")
            self.kinds[name] = JobKind(name, handler, every)
            return handler

        return register

    def outside_job(self, name: str) -> Callable[[OutsideHandler], OutsideHandler]:
        """Register the decorated ``handler(job)`` for ``name``, run outside any
        transaction (it opens its own when it needs one); the job is marked done once it
        returns. Its effects happen at least once: a crash before the done mark, or a
        failure after the outside effect, runs it again (``job.id`` is the idempotency
        key)."""

        def register(handler: OutsideHandler) -> OutsideHandler:
            if name in self.kinds:
                raise ValueError(f"job kind {name!r} declared twice")
            self.kinds[name] = JobKind(name, _nothing, None, outside=handler)
            return handler

        return register


def combine(sets: Iterable[JobSet]) -> dict[str, JobKind]:
    kinds: dict[str, JobKind] = {}
    for job_set in sets:
        for name, kind in job_set.kinds.items():
            if name in kinds:
                raise ValueError(f"job kind {name!r} declared twice")
            kinds[name] = kind
    return kinds


def load_task_modules(names: Iterable[str]) -> list[JobSet]:
    """The ``jobs`` of each named module (``COUNTERLINE_TASK_MODULES``)."""
    return [importlib.import_module(name).jobs for name in names]
