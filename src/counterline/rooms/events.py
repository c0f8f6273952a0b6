from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.realtime.events import Event, user_stream


@dataclass(frozen=True)
class MemberAdded(Event):
    """A user became a member of a room; their open tabs subscribe to it at once."""

    type = "room.joined"
    user_id: int
    room: dict[str, Any]

    @property
    def stream(self) -> str:
        return user_stream(self.user_id)

    def payload(self) -> dict[str, Any]:
        return {"room": self.room}

    def control(self) -> dict[str, Any]:
        return {"subscribe_user": self.user_id, "room_id": self.room["id"]}


@dataclass(frozen=True)
class MemberRemoved(Event):
    """A user left a room (or moved branch); their tabs stop receiving it."""

    type = "room.left"
    user_id: int
    room_id: int

    @property
    def stream(self) -> str:
        return user_stream(self.user_id)

    def payload(self) -> dict[str, Any]:
        return {"room_id": self.room_id}

    def control(self) -> dict[str, Any]:
        return {"unsubscribe_user": self.user_id, "room_id": self.room_id}
