from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from counterline.realtime.controls import Control, Notice, control
from counterline.realtime.events import Event

PRESENCE_STREAM = "presence"  # every socket listens to it


@control("presence")
@dataclass(frozen=True, slots=True)
class PresenceSeen(Notice):
    """Each node's presence registry learns who is online now (``Hub.on``)."""

    changes: tuple[tuple[int, bool], ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PresenceSeen:
        return cls(tuple((user_id, online) for user_id, online in data["changes"]))


@dataclass(frozen=True)
class PresenceChanged(Event):
    """Users came online (first tab connected) or went offline (last tab gone).

    One event per batch, with each user's final state in it. Every open tab gets it, so
    it is kept compact: two lists of ids, not an object per user.
    """

    type = "presence.changed"
    changes: tuple[tuple[int, bool], ...]  # in order; a later change of a user wins
    last_seen_at: datetime

    @property
    def stream(self) -> str:
        return PRESENCE_STREAM

    def final_states(self) -> dict[int, bool]:
        return dict(self.changes)

    def payload(self) -> dict[str, Any]:
        final = self.final_states()
        return {
            "online": [user_id for user_id, online in final.items() if online],
            "offline": [user_id for user_id, online in final.items() if not online],
            "last_seen_at": self.last_seen_at.isoformat(),
        }

    def controls(self) -> tuple[Control, ...]:
        return (PresenceSeen(tuple(self.final_states().items())),)
