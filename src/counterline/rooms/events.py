from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.realtime.controls import Control, Subscribe, Unsubscribe
from counterline.realtime.events import Event, user_stream

ROOMS_STREAM = "rooms"  # every socket listens to it: news about rooms anyone may join


def room_stream(room_id: int) -> str:
    return f"room:{room_id}"


def room_id_of_stream(stream: str) -> int | None:
    """The room a ``room:<id>`` stream is about; None for other streams."""
    prefix, _, room_id = stream.partition(":")
    return int(room_id) if prefix == "room" and room_id.isdecimal() else None


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

    def controls(self) -> tuple[Control, ...]:
        return (Subscribe(self.user_id, room_stream(self.room["id"])),)


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

    def controls(self) -> tuple[Control, ...]:
        return (Unsubscribe(self.user_id, room_stream(self.room_id)),)


@dataclass(frozen=True)
class RoomOpened(Event):
    """A public topic room was created: every open tab may list it as joinable (a tab whose
    user is already a member ignores it). Never sent for invite-only rooms or conversations."""

    type = "room.opened"
    room: dict[str, Any]

    @property
    def stream(self) -> str:
        return ROOMS_STREAM

    def payload(self) -> dict[str, Any]:
        return {"room": self.room}


@dataclass(frozen=True)
class RoomRenamed(Event):
    """A topic room got a new name: its members' tabs relabel it."""

    type = "room.renamed"
    room: dict[str, Any]

    @property
    def stream(self) -> str:
        return room_stream(self.room["id"])

    def payload(self) -> dict[str, Any]:
        return {"room": self.room}


@dataclass(frozen=True)
class RoomRead(Event):
    """A user's read position in a room moved (rooms.reading): every tab of theirs, on
    every node, shows the count the server now holds."""

    type = "room.read"
    user_id: int
    room_id: int
    last_read_id: int
    unread: int

    @property
    def stream(self) -> str:
        return user_stream(self.user_id)

    def payload(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "last_read_id": self.last_read_id, "unread": self.unread}

    def key(self) -> str | None:
        return f"room.read:{self.user_id}:{self.room_id}:{self.last_read_id}:{self.unread}"
