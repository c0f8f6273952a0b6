"""Who is online: a user is online while at least one of their tabs is connected.

When the last tab goes, the user stays online for a short grace period (a page
reload or a room switch reconnects within it) and then goes offline. Dead
network connections are found by the heartbeat sweeper, which closes them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from counterline.presence.registry import PresenceRegistry

log = logging.getLogger(__name__)
Change = tuple[int, bool]
Transitions = Callable[[list[Change]], Awaitable[None]]
# Changes are applied in batches at most this often: when a thousand clerks log in at
# opening time, everyone gets a few frames listing who came online, not a thousand.
BATCH_INTERVAL_SECONDS = 0.25
Pace = Callable[[], float]


class PresenceTracker:
    """Counts this node's tabs per user; ``on_change`` hears users arrive or leave the node,
    in order, a batch at a time."""

    def __init__(
        self,
        on_change: Transitions,
        grace_seconds: float,
        registry: PresenceRegistry,
        pace: Pace = lambda: BATCH_INTERVAL_SECONDS,
    ) -> None:
        self._on_change = on_change
        self.registry = registry
        self._grace = grace_seconds
        self._tabs: dict[int, int] = {}
        self._leaving: dict[int, asyncio.TimerHandle] = {}
        self._pace = pace
        self._encoded_for: set[int] = set()
        self._encoded = "[]"
        self._changes: asyncio.Queue[Change] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def online_user_ids(self) -> set[int]:
        """Who is online anywhere (all nodes)."""
        return self.registry.online_user_ids()

    def online_ids_json(self, including: int) -> str:
        """Everyone online (all nodes) and ``including``, as a JSON array in no particular
        order. Every tab that connects gets it: it is encoded once per change of the set."""
        ids = self.registry.online_user_ids()
        if ids != self._encoded_for:
            self._encoded_for = ids
            self._encoded = json.dumps(sorted(ids))
        if including in ids:
            return self._encoded
        return f"{self._encoded[:-1]}{',' if ids else ''}{including}]"

    def is_online(self, user_id: int) -> bool:
        return self.registry.is_online(user_id)

    def tab_opened(self, user_id: int) -> None:
        pending = self._leaving.pop(user_id, None)
        if pending is not None:
            pending.cancel()
        self._tabs[user_id] = self._tabs.get(user_id, 0) + 1
        if self._tabs[user_id] == 1 and pending is None:
            self._announce(user_id, online=True)

    def tab_closed(self, user_id: int, *, immediately: bool = False) -> None:
        remaining = self._tabs.get(user_id, 0) - 1
        if remaining > 0:
            self._tabs[user_id] = remaining
            return
        self._tabs.pop(user_id, None)
        if immediately or self._grace <= 0:
            self._go_offline(user_id)
            return
        loop = asyncio.get_running_loop()
        self._leaving[user_id] = loop.call_later(self._grace, self._go_offline, user_id)

    def _go_offline(self, user_id: int) -> None:
        pending = self._leaving.pop(user_id, None)
        if pending is not None:
            pending.cancel()
        if user_id not in self._tabs:
            self._announce(user_id, online=False)

    def _announce(self, user_id: int, *, online: bool) -> None:
        # One worker applies changes in order, so "online" never lands after "offline".
        self._changes.put_nowait((user_id, online))
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._apply_changes())

    async def _apply_changes(self) -> None:
        while True:
            batch = [await self._changes.get()]
            while not self._changes.empty():
                batch.append(self._changes.get_nowait())
            try:
                await self._on_change(batch)
            except Exception:
                log.exception("could not record presence changes of users %s", batch)
            finally:
                for _ in batch:
                    self._changes.task_done()
            await asyncio.sleep(self._pace())

    async def stop(self) -> None:
        for handle in self._leaving.values():
            handle.cancel()
        self._leaving.clear()
        if self._worker is not None:
            await self._changes.join()
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
