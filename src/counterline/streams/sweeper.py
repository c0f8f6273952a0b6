"""Sockets that went quiet, or whose session reached its lifetime, are closed."""

from __future__ import annotations

import asyncio
import time

from counterline.db import utcnow
from counterline.realtime.hub import Hub

SWEEP_INTERVAL_SECONDS = 5.0


async def sweep_idle_connections(hub: Hub, timeout_seconds: float) -> None:
    """Close sockets silent (not even a heartbeat) for ``timeout_seconds`` and sockets of
    sessions past their absolute lifetime, every few seconds, for as long as the process runs."""
    while True:
        await asyncio.sleep(min(SWEEP_INTERVAL_SECONDS, timeout_seconds / 3))
        hub.close_idle(time.monotonic() - timeout_seconds)
        hub.close_expired(utcnow())
