from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.realtime.events import Event, room_stream


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
        public = {key: value for key, value in self.message.items() if key != "client_ip"}
        return {"message": public}

    def staff_payload(self) -> dict[str, Any]:
        return {"message": self.message}

    def key(self) -> str:
        return f"message:{self.message['id']}"
