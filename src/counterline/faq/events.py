"""What a room's open tabs hear about its questions, on the room's stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.realtime.events import Event
from counterline.rooms.events import room_stream


@dataclass(frozen=True)
class QuestionChanged(Event):
    """A message became a question, got an accepted answer, or is no question any more
    (``question`` None): tabs redraw its mark."""

    type = "question.changed"
    room_id: int
    question_id: int  # the question's message id (Event.message_id is for message.posted)
    question: dict[str, Any] | None

    @property
    def stream(self) -> str:
        return room_stream(self.room_id)

    def payload(self) -> dict[str, Any]:
        return {"room_id": self.room_id, "message_id": self.question_id, "question": self.question}
