"""What a person's open tabs hear about notices, on their own stream (``user:{id}``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.realtime.events import Event, user_stream


@dataclass(frozen=True)
class NoticeAssigned(Event):
    """A notice (or a revision asking again) reached this person: tabs show its banner
    and the inbox lists it. ``reason``: ``published``, ``revised`` or ``reminder``."""

    type = "notice.assigned"
    user_id: int
    notice_id: int
    title: str
    due_at: str
    reason: str = "published"
    sent_at: str = ""  # when: two reminders of the same notice are two events

    @property
    def stream(self) -> str:
        return user_stream(self.user_id)

    def payload(self) -> dict[str, Any]:
        return {
            "notice": {"id": self.notice_id, "title": self.title, "due_at": self.due_at},
            "reason": self.reason,
        }

    def key(self) -> str | None:
        return f"notice:{self.notice_id}:{self.user_id}:{self.reason}:{self.sent_at}"


@dataclass(frozen=True)
class NoticeCompleted(Event):
    """This person is done with a notice: their other tabs drop its banner."""

    type = "notice.completed"
    user_id: int
    notice_id: int

    @property
    def stream(self) -> str:
        return user_stream(self.user_id)

    def payload(self) -> dict[str, Any]:
        return {"notice_id": self.notice_id}
