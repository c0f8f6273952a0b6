"""Where presence is shared: in this process, or across nodes through Redis.

The tracker reports a user arriving on or leaving this node; the registry says
whether that changed the user's state across the whole installation. With Redis,
every node keeps a set of its users and a heartbeat; when a node stops beating
(killed without a goodbye), any surviving node takes its users offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

from counterline.tasks import stop_task

log = logging.getLogger(__name__)
NODE_BEAT_SECONDS = 10.0
NODE_DEAD_AFTER_SECONDS = 30.0
PREFIX = "counterline:presence"

Orphaned = Callable[[list[int]], Awaitable[None]]


class PresenceRegistry(Protocol):
    def is_online(self, user_id: int) -> bool: ...

    def online_user_ids(self) -> set[int]: ...

    async def arrive(self, user_id: int) -> bool: ...

    async def leave(self, user_id: int) -> bool: ...

    def observe(self, user_id: int, online: bool) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LocalRegistry:
    """One process: the node's own users are everyone's."""

    def __init__(self) -> None:
        self._online: set[int] = set()

    def is_online(self, user_id: int) -> bool:
        return user_id in self._online

    def online_user_ids(self) -> set[int]:
        return set(self._online)

    async def arrive(self, user_id: int) -> bool:
        new = user_id not in self._online
        self._online.add(user_id)
        return new

    async def leave(self, user_id: int) -> bool:
        present = user_id in self._online
        self._online.discard(user_id)
        return present

    def observe(self, user_id: int, online: bool) -> None:
        if online:
            self._online.add(user_id)
        else:
            self._online.discard(user_id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisRegistry:
    """Presence shared by every node through Redis sets, with node heartbeats."""

    def __init__(
        self,
        url: str,
        on_orphaned: Orphaned,
        *,
        beat_seconds: float = NODE_BEAT_SECONDS,
        dead_after_seconds: float = NODE_DEAD_AFTER_SECONDS,
    ) -> None:
        from redis import asyncio as aioredis

        self.beat_seconds = beat_seconds
        self.dead_after_seconds = dead_after_seconds
        self.redis = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.node = uuid.uuid4().hex
        self._on_orphaned = on_orphaned
        self._online: set[int] = set()
        self._local: set[int] = set()
        self._beat: asyncio.Task[None] | None = None

    def _node_users(self, node: str) -> str:
        return f"{PREFIX}:node:{node}:users"

    @staticmethod
    def _user_nodes(user_id: int) -> str:
        return f"{PREFIX}:user:{user_id}:nodes"

    def is_online(self, user_id: int) -> bool:
        return user_id in self._online or user_id in self._local

    def online_user_ids(self) -> set[int]:
        return self._online | self._local

    async def arrive(self, user_id: int) -> bool:
        self._local.add(user_id)
        return await self._record(user_id, here=True) == 1

    async def leave(self, user_id: int) -> bool:
        self._local.discard(user_id)
        return await self._record(user_id, here=False) == 0

    async def _record(self, user_id: int, *, here: bool) -> int:
        """Add or remove this node for the user; returns on how many nodes the user is now.
        Without Redis, the change is only local and counts as a change everywhere."""
        change = "sadd" if here else "srem"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                getattr(pipe, change)(self._node_users(self.node), user_id)
                getattr(pipe, change)(self._user_nodes(user_id), self.node)
                pipe.scard(self._user_nodes(user_id))
                *_, nodes = await pipe.execute()
        except Exception:
            log.warning("Redis unavailable: presence of user %s recorded locally", user_id)
            return 1 if here else 0
        return int(nodes)

    def observe(self, user_id: int, online: bool) -> None:
        if online:
            self._online.add(user_id)
        else:
            self._online.discard(user_id)

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self._announce_node()
            await self.reload()
        self._beat = asyncio.create_task(self._keep_beating())

    async def stop(self) -> None:
        await stop_task(self._beat)
        with contextlib.suppress(Exception):
            await self.redis.hdel(f"{PREFIX}:nodes", self.node)
        await self.redis.aclose()

    async def reload(self) -> None:
        """Rebuild the cache of who is online from the live nodes' sets."""
        nodes = await self.redis.hkeys(f"{PREFIX}:nodes")
        keys = [self._node_users(node.decode()) for node in nodes]
        members = await self.redis.sunion(keys) if keys else set()
        self._online = {int(member) for member in members}

    async def _announce_node(self) -> None:
        await self.redis.hset(f"{PREFIX}:nodes", self.node, str(time.time()))

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(self.beat_seconds)
            try:
                await self._announce_node()
                if self._local:
                    async with self.redis.pipeline(transaction=False) as pipe:
                        pipe.sadd(self._node_users(self.node), *self._local)
                        for user_id in self._local:
                            pipe.sadd(self._user_nodes(user_id), self.node)
                        await pipe.execute()
                await self._reap_dead_nodes()
            except Exception:
                log.warning("presence heartbeat failed", exc_info=True)

    async def _reap_dead_nodes(self) -> None:
        beats = await self.redis.hgetall(f"{PREFIX}:nodes")
        now = time.time()
        for raw_node, raw_beat in beats.items():
            node = raw_node.decode()
            if node == self.node or now - float(raw_beat) < self.dead_after_seconds:
                continue
            claimed = await self.redis.set(
                f"{PREFIX}:reaping:{node}",
                self.node,
                nx=True,
                ex=max(1, int(self.dead_after_seconds)),
            )
            if claimed:
                await self._reap(node)

    async def _reap(self, node: str) -> None:
        users = await self.redis.smembers(self._node_users(node))
        orphaned = []
        for raw_user in users:
            user_id = int(raw_user)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.srem(self._user_nodes(user_id), node)
                pipe.scard(self._user_nodes(user_id))
                _, remaining = await pipe.execute()
            if int(remaining) == 0:
                orphaned.append(user_id)
        await self._on_orphaned(orphaned)
        await self.redis.delete(self._node_users(node))
        await self.redis.hdel(f"{PREFIX}:nodes", node)
        log.info("node %s stopped beating; took its %d users offline", node, len(users))
