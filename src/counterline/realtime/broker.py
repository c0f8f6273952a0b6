"""Brokers carry envelopes from the process that committed them to every hub.

``MemoryBroker`` serves a single process. ``RedisBroker`` publishes each envelope
once on one Redis channel; every node's hub fans it out to its own sockets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

from counterline.realtime.events import Envelope
from counterline.realtime.hub import Hub

log = logging.getLogger(__name__)
CHANNEL = "counterline:events"


class Broker(Protocol):
    healthy: bool

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, envelopes: Iterable[Envelope]) -> None: ...


class MemoryBroker:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.healthy = True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, envelopes: Iterable[Envelope]) -> None:
        for envelope in envelopes:
            self.hub.deliver(envelope)


class RedisBroker:
    """Publishes to Redis and delivers what Redis sends back, including our own events."""

    def __init__(self, hub: Hub, url: str) -> None:
        from redis import asyncio as aioredis

        self.hub = hub
        self.redis = aioredis.from_url(url, health_check_interval=10)
        self.healthy = False
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=5)
        except TimeoutError:
            log.warning("Redis not reachable at start; live updates degraded until it is")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self.redis.aclose()

    async def publish(self, envelopes: Iterable[Envelope]) -> None:
        for envelope in envelopes:
            try:
                await self.redis.publish(CHANNEL, envelope.to_json())
            except Exception:
                # Clients catch up from the database; the record itself is safe.
                log.warning("Redis publish failed; delivering locally only", exc_info=True)
                self.healthy = False
                self.hub.deliver(envelope)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.healthy = True
                    self._ready.set()
                    async for item in pubsub.listen():
                        if item["type"] == "message":
                            self.hub.deliver(Envelope.from_json(item["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("Lost Redis subscription; retrying", exc_info=True)
            self.healthy = False
            await asyncio.sleep(1)


def make_broker(hub: Hub, redis_url: str) -> Broker:
    return RedisBroker(hub, redis_url) if redis_url else MemoryBroker(hub)
