from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from counterline.realtime.events import PRESENCE_STREAM, Event


@dataclass(frozen=True)
class PresenceChanged(Event):
    """Users came online (first tab connected) or went offline (last tab gone), in order."""

    type = "presence.changed"
    changes: tuple[tuple[int, bool], ...]
    last_seen_at: datetime

    @property
    def stream(self) -> str:
        return PRESENCE_STREAM

    def payload(self) -> dict[str, Any]:
        seen = self.last_seen_at.isoformat()
        return {
            "changes": [
                {"user_id": user_id, "online": online, "last_seen_at": seen}
                for user_id, online in self.changes
            ]
        }

    def control(self) -> dict[str, Any]:
        return {"presence": [[user_id, online] for user_id, online in self.changes]}
