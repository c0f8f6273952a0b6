"""The daily purge of operational data older than the retention (site settings): login
attempts, ended sessions and finished jobs. Messages and the audit log are the record and
are kept."""

from __future__ import annotations

import logging
from datetime import timedelta

from counterline.db import Unit, utcnow
from counterline.jobs.registry import JobSet, RunningJob
from counterline.site import queries
from counterline.site.values import retention_days_of

log = logging.getLogger(__name__)

jobs = JobSet()


async def purge_old_operational_data(unit: Unit, days: int) -> dict[str, int]:
    purged = await queries.purge_operational(unit.session, utcnow() - timedelta(days=days))
    log.info("purged operational data older than %s days: %s", days, purged)
    return purged


@jobs.job("site.purge_operational_data", every=timedelta(days=1))
async def purge_operational_data(unit: Unit, job: RunningJob) -> None:
    # The retention as stored now, not this server's cached copy: one small query.
    stored = await queries.stored_settings(unit.session)
    await purge_old_operational_data(unit, retention_days_of(stored))
