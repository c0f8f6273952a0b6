from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.realtime.events import CONTROL_STREAM, Event, user_stream


@dataclass(frozen=True)
class SessionEnded(Event):
    """A session was logged out: tabs of that session are told and disconnected."""

    type = "session.ended"
    user_id: int
    session_id: int

    @property
    def stream(self) -> str:
        return user_stream(self.user_id)

    def payload(self) -> dict[str, Any]:
        return {"session_id": self.session_id}

    def control(self) -> dict[str, Any]:
        return {"close_session": self.session_id, "user_id": self.user_id}


@dataclass(frozen=True)
class AccountChanged(Event):
    """A user's password, language or branch changed: nodes forget what they cached."""

    type = "account.changed"
    user_id: int

    @property
    def stream(self) -> str:
        return CONTROL_STREAM

    def payload(self) -> dict[str, Any]:
        return {"user_id": self.user_id}

    def control(self) -> dict[str, Any]:
        return {"account_changed": self.user_id}
