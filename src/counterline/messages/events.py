from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.messages.schemas import withheld_fields
from counterline.realtime.events import Event
from counterline.rooms.events import room_stream


@dataclass(frozen=True)
class MessagePosted(Event):
    """A message was stored in a room; every member's tab shows it."""

    type = "message.posted"
    room_id: int
    message: dict[str, Any]

    @property
    def stream(self) -> str:
        return room_stream(self.room_id)

    def payload(self) -> dict[str, Any]:
        return {"message": _shown(self.message, staff=False)}

    def staff_payload(self) -> dict[str, Any]:
        return {"message": _shown(self.message, staff=True)}

    def key(self) -> str:
        return f"message:{self.message['id']}"

    def message_id(self) -> int:
        return self.message["id"]


def _shown(message: dict[str, Any], *, staff: bool) -> dict[str, Any]:
    withheld = withheld_fields(staff=staff, author=False)
    return {key: value for key, value in message.items() if key not in withheld}
