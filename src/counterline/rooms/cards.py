"""What a room list shows of each room, kept between requests until the room changes.

Every tab asks for its room list, and a clerk may be in hundreds of rooms and conversations:
reading every room's name and every conversation's members again each time cost more than
the rest of the answer (bench.unread). A room's card (kind, name, visibility, branch; a
conversation's members) is kept here with the room's ``revision``, which the database bumps
itself whenever any of that changes (migration 0020's triggers), whoever writes: this node,
another node, a command. A room list reads its rooms' revisions with the viewer's read
positions, and reads again the cards whose revision has moved, so a list is never staler
than the query that lists it.

A card is read after the revision that labels it (in the same statement, or in a later one
that sees at least as much), so a kept card is never older than its label; one newer than
its label is only read again once more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.rooms import queries
from counterline.rooms.models import RoomKind

MAX_CARDS = 100_000


@dataclass(frozen=True, slots=True)
class Card:
    """A room as every room list shows it; ``members`` (a conversation's, in the
    ``ConversationMemberOut`` JSON shape) is shared by the answers that show it, never
    changed. ``titles``: what each member of a 1:1 conversation calls it."""

    revision: int
    kind: str
    name: str
    visibility: str
    branch_id: int | None
    members: list[dict[str, Any]] | None
    titles: dict[int, str]
    order: tuple[int, str, int]

    def title_for(self, viewer_id: int) -> str:
        return self.titles.get(viewer_id, self.name)


def title_among(
    name: str, key: str | None, people: Sequence[tuple[int, str]], viewer_id: int | None
) -> str:
    """What a viewer calls a conversation among ``people`` (id, display name): the other
    person's name for a 1:1 (a conversation with a key)."""
    if key is not None and viewer_id is not None:
        others = [display_name for user_id, display_name in people if user_id != viewer_id]
        if len(others) == 1:
            return others[0]
    return name


@dataclass
class RoomCards:
    """The cards of the rooms this process has listed lately, by room id (one database)."""

    max_cards: int = MAX_CARDS
    _cards: dict[int, Card] = field(default_factory=dict)

    async def cards_for(self, db: AsyncSession, readings: Sequence[Row[Any]]) -> dict[int, Card]:
        """The card of each room in ``readings`` (rows starting with room id and revision),
        read again where the revision has moved."""
        cards = self._cards
        shown: dict[int, Card] = {}
        stale = []
        for room_id, revision, *_ in readings:
            card = cards.get(room_id)
            if card is None or card.revision != revision:
                stale.append(room_id)
            else:
                shown[room_id] = card
        if stale:
            fresh = await _read_cards(db, stale)
            self._keep(fresh)
            shown.update(fresh)
        return shown

    def _keep(self, fresh: dict[int, Card]) -> None:
        if len(self._cards) + len(fresh) > self.max_cards:
            # The oldest kept tenth goes: a busy company has far fewer rooms than this.
            for room_id in list(self._cards)[: self.max_cards // 10 + len(fresh)]:
                del self._cards[room_id]
        self._cards.update(fresh)


async def _read_cards(db: AsyncSession, room_ids: list[int]) -> dict[int, Card]:
    rows = await queries.list_room_cards(db, room_ids)
    conversations = [row[0] for row in rows if row[2] == RoomKind.conversation]
    members = await queries.list_conversation_members(db, conversations) if conversations else {}
    cards = {}
    for room_id, revision, kind, name, visibility, branch_id, key in rows:
        people = None
        titles: dict[int, str] = {}
        if kind == RoomKind.conversation:
            people = [
                {"id": user_id, "username": username, "display_name": display_name}
                for _, user_id, username, display_name in members[room_id]
            ]
            pairs = [(person["id"], person["display_name"]) for person in people]
            titles = {user_id: title_among(name, key, pairs, user_id) for user_id, _ in pairs}
        cards[room_id] = Card(
            revision=revision,
            kind=kind,
            name=name,
            visibility=visibility,
            branch_id=branch_id,
            members=people,
            titles=titles,
            order=queries.room_order(room_id, kind, name),
        )
    return cards
