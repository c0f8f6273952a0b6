"""Enqueue a job in the transaction of the change that needs it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from counterline.db import Unit, utcnow
from counterline.jobs.models import Job


def enqueue(
    unit: Unit,
    kind: str,
    payload: Mapping[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Add a job to ``unit``'s transaction: it exists once that commits, and never if it
    rolls back. It runs at ``run_at`` (default now) or soon after, on whichever node
    claims it first. ``payload`` must be JSON; its id is known after a flush."""
    job = Job(
        kind=kind, payload=dict(payload or {}), run_at=run_at or utcnow(), max_attempts=max_attempts
    )
    unit.session.add(job)
    return job
