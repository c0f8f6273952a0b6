"""In-process subscribers to committed events: the fast, best-effort half of the
post-commit seam.

``Services`` calls :meth:`Subscribers.notify` with a transaction's events once it has
committed (never for one rolled back). A subscriber runs in the process that made the
change, once per event; it is not called if the process dies right after the commit,
and its failure is logged, not raised (the change is already done). Work that must
happen goes in a durable job instead (``counterline.jobs``), enqueued in the
transaction itself: :meth:`Subscribers.subscribe_in_transaction` calls a callback with the
unit and each event of that type just before the transaction commits, so a capability can
queue a job beside a change it does not own (outgoing webhooks beside a post) without the
owner importing it. Such a callback's error rolls the transaction back: keep it small.
"""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from counterline.db import Unit

log = logging.getLogger(__name__)
E = TypeVar("E")
Subscriber = Callable[[Any], Awaitable[None] | None]


class Subscribers:
    def __init__(self) -> None:
        self._by_type: dict[type, list[Subscriber]] = defaultdict(list)
        self._in_transaction: dict[type, list[Callable[[Unit, Any], Awaitable[None]]]] = {}

    def subscribe_in_transaction(
        self, event_type: type[E], callback: Callable[[Unit, E], Awaitable[None]]
    ) -> None:
        """Call ``callback(unit, event)`` for every event of ``event_type`` (or a subclass)
        queued on a write unit, before it commits, in its transaction."""
        self._in_transaction.setdefault(event_type, []).append(callback)

    async def before_commit(self, unit: Unit) -> None:
        if not self._in_transaction:
            return
        for event in list(unit.events):
            for event_type in type(event).__mro__:
                for callback in self._in_transaction.get(event_type, ()):
                    await callback(unit, event)

    def subscribe(
        self, event_type: type[E], subscriber: Callable[[E], Awaitable[None] | None]
    ) -> None:
        """Call ``subscriber`` with every committed event of ``event_type`` (or a subclass)."""
        self._by_type[event_type].append(subscriber)

    async def notify(self, events: Iterable[object]) -> None:
        for event in events:
            for event_type in type(event).__mro__:
                for subscriber in self._by_type.get(event_type, ()):
                    await _call(subscriber, event)


async def _call(subscriber: Subscriber, event: object) -> None:
    try:
        result = subscriber(event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("a subscriber to %s failed", type(event).__name__)
