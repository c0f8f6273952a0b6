"""Brokers carry envelopes from the process that committed them to every hub.

``MemoryBroker`` serves a single process. ``RedisBroker`` publishes each envelope
once on one Redis channel; every node's hub fans it out to its own sockets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from counterline.realtime.events import Envelope, dumps
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


FetchSince = Callable[[int], Awaitable[list[Envelope]]]
POLL_SECONDS = 1.0
POLL_SLACK_IDS = 1_000
UNSENT_LIMIT = 10_000


class RedisBroker:
    """Publishes to Redis and delivers what Redis sends back, including our own events.

    If Redis fails, the node keeps serving: its own events are delivered locally and
    a poller reads new messages from the database (the source of truth) until the
    subscription is back. Hubs drop events they have already delivered, so the
    overlap between poller and Redis never reaches a client twice.
    """

    def __init__(self, hub: Hub, url: str, fetch_since: FetchSince | None = None) -> None:
        from redis import asyncio as aioredis

        self.hub = hub
        self.redis = aioredis.from_url(
            url, health_check_interval=5, socket_connect_timeout=3, socket_timeout=5
        )
        self.fetch_since = fetch_since
        self.healthy = False
        self._listener: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._unsent: list[Envelope] = []

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=5)
        except TimeoutError:
            log.warning("Redis not reachable at start; live updates degraded until it is")
            self._set_health(False)

    async def stop(self) -> None:
        for task in (self._listener, self._poller):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.redis.aclose()

    async def publish(self, envelopes: Iterable[Envelope]) -> None:
        """One PUBLISH per event, all of a commit's events in one round trip."""
        envelopes = list(envelopes)
        if self.healthy and envelopes:
            try:
                async with self.redis.pipeline(transaction=False) as pipeline:
                    for envelope in envelopes:
                        pipeline.publish(CHANNEL, envelope.to_json())
                    await pipeline.execute()
                return
            except Exception:
                log.warning("Redis publish failed; delivering locally only")
                self._set_health(False)
        # Don't make the poster wait: deliver here, send to the other nodes on recovery.
        # Any of these Redis did take reach hubs twice; hubs drop what they already have.
        for envelope in envelopes:
            self.hub.deliver(envelope)
            self._keep_for_later(envelope)

    def _keep_for_later(self, envelope: Envelope) -> None:
        if len(self._unsent) < UNSENT_LIMIT:
            self._unsent.append(envelope)
        else:
            log.warning("too many events held while Redis is away; other nodes poll the database")

    async def _send_held_events(self) -> None:
        """Events this node could not publish go out now; hubs drop what they already have."""
        while self._unsent:
            await self.redis.publish(CHANNEL, self._unsent[0].to_json())
            self._unsent.pop(0)

    def _set_health(self, healthy: bool) -> None:
        changed = healthy != self.healthy
        self.healthy = healthy
        if changed:
            self.hub.broadcast(dumps({"type": "live", "state": "ok" if healthy else "degraded"}))
        if not healthy and self._poller is None and self.fetch_since is not None:
            self._poller = asyncio.create_task(self._poll_database())

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    await self._send_held_events()
                    self._set_health(True)
                    self._ready.set()
                    async for item in pubsub.listen():
                        if item["type"] == "message":
                            self.hub.deliver(Envelope.from_json(item["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("Lost the Redis subscription; retrying")
            self._set_health(False)
            await asyncio.sleep(1)

    async def _poll_database(self) -> None:
        """While Redis is away, deliver new messages from the database."""
        assert self.fetch_since is not None
        after = max(0, self.hub.last_message_id - POLL_SLACK_IDS)
        try:
            while True:
                for envelope in await self.fetch_since(after):
                    self.hub.deliver(envelope)
                    after = max(after, envelope.message_id or 0)
                if self.healthy:
                    return
                await asyncio.sleep(POLL_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("database poller failed")
        finally:
            self._poller = None


def make_broker(hub: Hub, redis_url: str, fetch_since: FetchSince | None = None) -> Broker:
    return RedisBroker(hub, redis_url, fetch_since) if redis_url else MemoryBroker(hub)
