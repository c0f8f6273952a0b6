"""Each room's messages are numbered 1, 2, 3… (``messages.seq``), in the transaction that
stores them, so a member's unread count is ``rooms.last_seq - room_members.read_seq``: kept
as messages are posted, never counted by scanning (rooms.reading).

Numbers are taken after ``queries.serialise_writers``, with one statement for every room of
a group (``queries.take_seqs``: ``UPDATE rooms … RETURNING``, so on PostgreSQL the room rows
stay locked until the commit, and two writers on any nodes can never take the same number).
A draft the insert skipped (a retry of a stored message) gives its number back, so the
numbers of a room have no gaps. And posting is reading: each author's read position moves to
her newest message of the group (one statement for the group)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from counterline.messages import queries


async def number(db: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Give each message row about to be inserted its ``seq``, in the order given."""
    rows = list(rows)
    starts = await queries.take_seqs(db, Counter(row["room_id"] for row in rows))
    for row in rows:
        room_id = row["room_id"]
        row["seq"] = starts[room_id]
        starts[room_id] += 1


async def settle(db: AsyncSession, rows: Iterable[dict[str, Any]], stored: Sequence[Any]) -> None:
    """After the insert: close the gaps the skipped rows left (``stored``: the messages
    inserted, each with ``id``, ``author_id`` and ``client_id``), and move each author's
    read position to her newest message."""
    new_ids = {(message.author_id, message.client_id): message.id for message in stored}
    skipped: Counter[int] = Counter()
    renumbered: list[tuple[int, int]] = []
    own: dict[tuple[int, int], dict[str, int]] = {}
    for row in rows:
        room_id, author_id = row["room_id"], row["author_id"]
        message_id = new_ids.pop((author_id, row["client_id"]), None)
        if message_id is None:
            skipped[room_id] += 1
            continue
        if skipped[room_id]:
            row["seq"] -= skipped[room_id]
            renumbered.append((message_id, row["seq"]))
        own[room_id, author_id] = {
            "b_room_id": room_id,
            "b_user_id": author_id,
            "b_seq": row["seq"],
            "b_id": message_id,
        }
    if skipped:
        await queries.renumber(db, dict(skipped), renumbered)
    await queries.read_own(db, [own[key] for key in sorted(own)])
