"""Typed events and the envelope the hub fans out.

An event is serialised once into an :class:`Envelope` (one JSON frame for everyone,
and a second one for staff when the event carries staff-only fields). The same
envelope crosses Redis unchanged, so every node sends identical bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

PRESENCE_STREAM = "presence"
CONTROL_STREAM = "control"  # for the hubs only: no socket subscribes to it


def room_stream(room_id: int) -> str:
    return f"room:{room_id}"


def room_id_of_stream(stream: str) -> int | None:
    """The room a ``room:<id>`` stream is about; None for other streams."""
    prefix, _, room_id = stream.partition(":")
    return int(room_id) if prefix == "room" and room_id.isdecimal() else None


def user_stream(user_id: int) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class Envelope:
    stream: str
    type: str
    frame: str
    staff_frame: str | None = None
    control: dict[str, Any] = field(default_factory=dict)
    key: str | None = None

    def frame_for(self, staff: bool) -> str:
        return self.staff_frame if staff and self.staff_frame is not None else self.frame

    def to_json(self) -> str:
        return json.dumps(
            [self.stream, self.type, self.frame, self.staff_frame, self.control, self.key],
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Envelope:
        stream, type_, frame, staff_frame, control, key = json.loads(raw)
        return cls(stream, type_, frame, staff_frame, control, key)


def message_id_of(envelope: Envelope) -> int | None:
    """The message id an envelope carries (its key is ``message:<id>``), if any."""
    if envelope.key is None or not envelope.key.startswith("message:"):
        return None
    return int(envelope.key.removeprefix("message:"))


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class Event:
    """Base of all events. Subclasses are dataclasses with a docstring saying when they fire."""

    type: ClassVar[str]

    @property
    def stream(self) -> str:
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        raise NotImplementedError

    def staff_payload(self) -> dict[str, Any] | None:
        """Extra fields only managers and admins may see; None when there are none."""
        return None

    def control(self) -> dict[str, Any]:
        """Instructions for the hub itself (not sent to clients)."""
        return {}

    def key(self) -> str | None:
        """Identity of the event, so a hub that receives it twice delivers it once."""
        return None

    def envelope(self) -> Envelope:
        base = {"type": self.type, "stream": self.stream}
        staff = self.staff_payload()
        return Envelope(
            stream=self.stream,
            type=self.type,
            frame=dumps({**base, **self.payload()}),
            staff_frame=None if staff is None else dumps({**base, **staff}),
            control=self.control(),
            key=self.key(),
        )
