"""Group commit: requests that write are queued, and one task per process stores whatever is
waiting in one transaction.

A burst then costs one commit (and one writer turn, one publish round trip) instead of one
of each per request; at a low rate a group is a single request, so nothing waits for
company. A request is answered only after its group has committed. What is stored, and
how, is the caller's (``store``): posts (messages/writer.py), read positions
(messages/reading.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from counterline.errors import TooManyRequests, UserError
from counterline.i18n import N_
from counterline.tasks import stop_task

log = logging.getLogger(__name__)

STOPPING = "the server is stopping"
Item = TypeVar("Item")
Answer = TypeVar("Answer")
# Every item of the group in one transaction, answered in order. An item the user got
# wrong is answered with its error; it must have written nothing, so the others commit.
Store = Callable[[list[Item]], Awaitable[Sequence[Answer | UserError]]]


@dataclass(slots=True)
class _Pending(Generic[Item, Answer]):
    item: Item
    answer: asyncio.Future[Answer]


class GroupCommit(Generic[Item, Answer]):
    """Queue items with :meth:`submit`; one task stores them in groups of up to
    ``max_group``. With ``max_in_flight`` items already waiting, one more is refused (429)
    rather than delayed until it times out."""

    def __init__(
        self,
        store: Store[Item, Answer],
        *,
        max_group: int,
        max_in_flight: int | None = None,
        on_group: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._max_group = max_group
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._on_group = on_group
        self._waiting: deque[_Pending[Item, Answer]] = deque()
        self._storing: list[_Pending[Item, Answer]] = []
        self._answered = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await stop_task(self._task)
        while self._waiting:
            _settle(self._waiting.popleft().answer, RuntimeError(STOPPING))

    async def submit(self, item: Item) -> Answer:
        """The item's answer once its group has committed (or its error)."""
        if self._max_in_flight is not None and self._in_flight >= self._max_in_flight:
            raise TooManyRequests(N_("The server is busy. Please try again."), retry_after=1)
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Pending(item, answer))
        self._wake.set()
        self._in_flight += 1
        try:
            return await answer
        finally:
            self._in_flight -= 1

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                size = min(len(self._waiting), self._max_group)
                group = [self._waiting.popleft() for _ in range(size)]
                try:
                    await self._write(group)
                except asyncio.CancelledError:
                    for pending in group:
                        _settle(pending.answer, RuntimeError(STOPPING))
                    raise

    async def answer_now(self, answers: Sequence[Answer | UserError]) -> None:
        """For ``store``: answer the group it is storing before it returns (once committed,
        before its events are published), and let those requests respond first."""
        self._answered = True
        self._answer_all(self._storing, answers)
        await asyncio.sleep(0)

    async def _write(self, group: list[_Pending[Item, Answer]]) -> None:
        self._storing, self._answered = group, False
        try:
            answers = await self._store([pending.item for pending in group])
        except Exception as error:
            if self._answered:  # committed and answered: only what followed failed
                log.exception("after storing a group")
                return
            if len(group) == 1:
                log.exception("storing a group of one failed")
                _settle(group[0].answer, error)
                return
            # One item the database refuses must not fail its neighbours: each alone.
            for pending in group:
                await self._write([pending])
            return
        if not self._answered:
            self._answer_all(group, answers)

    def _answer_all(
        self, group: list[_Pending[Item, Answer]], answers: Sequence[Answer | UserError]
    ) -> None:
        if self._on_group is not None:
            self._on_group(len(group))
        for pending, answer in zip(group, answers, strict=True):
            _settle(pending.answer, answer)


def _settle(answer: asyncio.Future[Any], outcome: object) -> None:
    """Answer a waiting request; it may have gone (the client hung up)."""
    if answer.done():
        return
    if isinstance(outcome, BaseException):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)
