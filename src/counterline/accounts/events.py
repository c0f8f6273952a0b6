from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counterline.realtime.controls import CloseSession, Control, Notice, control
from counterline.realtime.events import CONTROL_STREAM, Event, user_stream


@control("forget_account")
@dataclass(frozen=True, slots=True)
class ForgetAccount(Notice):
    """Every node forgets what it cached about the user (identities, the directory); the
    publishing node at once, before the request answers."""

    at_publish = True
    user_id: int


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

    def controls(self) -> tuple[Control, ...]:
        return (ForgetAccount(self.user_id), CloseSession(self.user_id, self.session_id))


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

    def controls(self) -> tuple[Control, ...]:
        return (ForgetAccount(self.user_id),)
