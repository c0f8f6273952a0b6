from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.messages.schemas import withheld_fields
from counterline.realtime.events import Event
from counterline.rooms.events import room_stream


@dataclass(frozen=True)
class _MessageShown(Event):
    """An event carrying a whole message to a room's tabs: everyone gets it without the
    withheld fields, managers and administrators with the staff-only ones."""

    room_id: int
    message: dict[str, Any]

    @property
    def stream(self) -> str:
        return room_stream(self.room_id)

    def payload(self) -> dict[str, Any]:
        return {"message": _shown(self.message, staff=False)}

    def staff_payload(self) -> dict[str, Any]:
        return {"message": _shown(self.message, staff=True)}


@dataclass(frozen=True)
class MessagePosted(_MessageShown):
    """A message was stored in a room; every member's tab shows it."""

    type = "message.posted"

    def key(self) -> str:
        return f"message:{self.message['id']}"

    def message_id(self) -> int:
        return self.message["id"]


@dataclass(frozen=True)
class MessageEdited(_MessageShown):
    """A message's text was changed; tabs replace it. No ``message_id``: it announces no
    new message, so it moves no cursor and is never skipped as already replayed."""

    type = "message.edited"
    revision_id: int

    def key(self) -> str:
        return f"message.edited:{self.revision_id}"


@dataclass(frozen=True)
class MessageDeleted(Event):
    """A message was deleted: tabs remove it; managers' and administrators' tabs get its
    tombstone instead. No ``message_id``, as for message.edited."""

    type = "message.deleted"
    room_id: int
    message: dict[str, Any]

    @property
    def stream(self) -> str:
        return room_stream(self.room_id)

    def payload(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "message_id": self.message["id"]}

    def staff_payload(self) -> dict[str, Any]:
        return {**self.payload(), "message": _shown(self.message, staff=True)}

    def key(self) -> str:
        return f"message.deleted:{self.message['id']}"


def _shown(message: dict[str, Any], *, staff: bool) -> dict[str, Any]:
    withheld = withheld_fields(staff=staff, author=False)
    return {key: value for key, value in message.items() if key not in withheld}
