"""Typed events and the envelope the hub fans out.

An event is serialised once into an :class:`Envelope` (one JSON frame for everyone,
and a second one for staff when the event carries staff-only fields). The same
envelope crosses Redis unchanged, so every node sends identical bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from counterline.realtime.controls import Control, decode_controls, encode_controls

CONTROL_STREAM = "control"  # for the hubs only: no socket subscribes to it


def user_stream(user_id: int) -> str:
    """A user's own stream: every socket of theirs listens to it."""
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class Envelope:
    stream: str
    type: str
    frame: str
    staff_frame: str | None = None
    controls: tuple[Control, ...] = ()
    key: str | None = None
    message_id: int | None = None  # set on message.posted: sockets skip what they replayed

    def frame_for(self, staff: bool) -> str:
        return self.staff_frame if staff and self.staff_frame is not None else self.frame

    def to_json(self) -> str:
        return json.dumps(
            [
                self.stream,
                self.type,
                self.frame,
                self.staff_frame,
                encode_controls(self.controls),
                self.key,
                self.message_id,
            ],
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Envelope:
        stream, type_, frame, staff_frame, controls, key, message_id = json.loads(raw)
        return cls(stream, type_, frame, staff_frame, decode_controls(controls), key, message_id)


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

    def controls(self) -> tuple[Control, ...]:
        """Instructions for the hubs themselves (not sent to clients), applied in order
        before the frame is delivered."""
        return ()

    def key(self) -> str | None:
        """Identity of the event, so a hub that receives it twice delivers it once."""
        return None

    def message_id(self) -> int | None:
        """The message the event announces, if any (see ``Envelope.message_id``)."""
        return None

    def envelope(self) -> Envelope:
        base = {"type": self.type, "stream": self.stream}
        staff = self.staff_payload()
        return Envelope(
            stream=self.stream,
            type=self.type,
            frame=dumps({**base, **self.payload()}),
            staff_frame=None if staff is None else dumps({**base, **staff}),
            controls=self.controls(),
            key=self.key(),
            message_id=self.message_id(),
        )
