"""Posts in groups (``group_commit``): every post waiting is stored in one transaction.

A burst of posts then costs one commit, one turn of the posting order (on PostgreSQL a
lock held across all nodes until the events are published) and one publish round trip,
instead of one of each per post. A post is acknowledged only after its group has committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial

from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import UserError
from counterline.group_commit import GroupCommit
from counterline.messages.actions import Draft, Posted, post_messages

MAX_GROUP = 100


class PostWriter:
    """Store posts with :meth:`post`, in groups of up to ``max_group``.

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
        self._groups: GroupCommit[Draft, Posted] = GroupCommit(
            self._store, max_group=max_group, max_in_flight=max_in_flight, on_group=on_group
        )

    def start(self) -> None:
        self._groups.start()

    async def stop(self) -> None:
        await self._groups.stop()

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
        refused (429); the client retries with the same client id."""
        draft = Draft(author, room_id, body, client_id, client_ip, tuple(attachments), confirm_all)
        return await self._groups.submit(draft)

    async def _store(self, drafts: list[Draft]) -> list[Posted | UserError]:
        async with self._open_group() as unit:
            answers = await post_messages(unit, drafts)
            # The authors hear "stored" before their rooms hear the messages: sending 50
            # frames first would make every post's answer wait for its fan-out.
            unit.after_commit(partial(self._groups.answer_now, answers))
        return answers
