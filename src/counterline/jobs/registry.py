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


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    every: timedelta | None = None


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
