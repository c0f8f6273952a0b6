"""Group commit: posts are stored by one task per process, every post waiting in one
transaction.

A burst of posts then costs one commit, one turn of the posting order (on PostgreSQL a
lock held across all nodes until the events are published) and one publish round trip,
instead of one of each per post. At a low rate a group is a single post, so nothing
waits for company. A post is acknowledged only after its group has committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import TooManyRequests, UserError
from counterline.i18n import N_
from counterline.messages.actions import Draft, Posted, post_messages
from counterline.tasks import stop_task

log = logging.getLogger(__name__)

MAX_GROUP = 100
STOPPING = "the server is stopping"


@dataclass(slots=True)
class PendingPost:
    draft: Draft
    answer: asyncio.Future[Posted]


class PostWriter:
    """Queue posts with :meth:`post`; one task stores them in groups of up to ``max_group``.

    ``open_group`` opens the write transaction for a group and publishes its events
    after the commit (``PostingOrder.group``).
    """

    def __init__(
        self,
        open_group: Callable[[], AbstractAsyncContextManager[Unit]],
        *,
        max_group: int = MAX_GROUP,
        max_in_flight: int | None = None,
        on_group: Callable[[int], None] | None = None,
    ) -> None:
        self._open_group = open_group
        self.max_group = max_group
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._on_group = on_group
        self._waiting: deque[PendingPost] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await stop_task(self._task)
        while self._waiting:
            _settle(self._waiting.popleft().answer, RuntimeError(STOPPING))

    async def post(
        self,
        author: User,
        room_id: int,
        body: str,
        client_id: str,
        client_ip: str,
        attachments: Sequence[int] = (),
        *,
        confirm_all: bool = False,
    ) -> Posted:
        """Store a message (see ``actions.post_message``) once its group has committed.

        Sheds load explicitly: with ``max_in_flight`` posts already waiting, a post is
        refused (429) rather than delayed until it times out; the client retries with the
        same client id."""
        if self._max_in_flight is not None and self._in_flight >= self._max_in_flight:
            raise TooManyRequests(N_("The server is busy. Please try again."), retry_after=1)
        answer: asyncio.Future[Posted] = asyncio.get_running_loop().create_future()
        draft = Draft(author, room_id, body, client_id, client_ip, tuple(attachments), confirm_all)
        self._waiting.append(PendingPost(draft, answer))
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
                size = min(len(self._waiting), self.max_group)
                group = [self._waiting.popleft() for _ in range(size)]
                try:
                    await self._write(group)
                except asyncio.CancelledError:
                    for pending in group:
                        _settle(pending.answer, RuntimeError(STOPPING))
                    raise

    async def _write(self, group: list[PendingPost]) -> None:
        try:
            answers = await self._store(group)
        except Exception as error:
            if len(group) == 1:
                log.exception("storing a post failed")
                _settle(group[0].answer, error)
                return
            # One post the database refuses must not fail its neighbours: each alone.
            for pending in group:
                await self._write([pending])
            return
        if self._on_group is not None:
            self._on_group(len(group))
        for pending, answer in zip(group, answers, strict=True):
            _settle(pending.answer, answer)

    async def _store(self, group: list[PendingPost]) -> list[Posted | UserError]:
        """Every post of the group in one transaction. A post the user got wrong (not a
        member, empty, a reused client id) is answered with its error; it wrote nothing,
        so the others still commit."""
        async with self._open_group() as unit:
            return await post_messages(unit, [pending.draft for pending in group])


def _settle(answer: asyncio.Future[Posted], outcome: Posted | BaseException) -> None:
    """Answer a waiting post; its request may have gone (the client hung up)."""
    if answer.done():
        return
    if isinstance(outcome, BaseException):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)
