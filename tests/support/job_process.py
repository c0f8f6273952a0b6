"""A Counterline process that commits one job and then serves, its runner waiting
(``COUNTERLINE_JOB_POLL_SECONDS``) before it looks for jobs: the test kills it between
the commit and the run. Settings come from the environment.

python -m tests.support.job_process LABEL   # prints "committed <job id>", then "serving"
"""

from __future__ import annotations

import asyncio
import sys

from counterline.config import load_settings
from counterline.jobs.queue import enqueue
from counterline.services import Services


async def main(label: str) -> None:
    services = Services.from_settings(load_settings())
    async with services.transaction() as unit:
        job = enqueue(unit, "test.record", {"label": label})
        await unit.session.flush()
    print(f"committed {job.id}", flush=True)
    await services.start()
    print("serving", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await services.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
