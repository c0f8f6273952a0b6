from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from counterline.realtime.events import PRESENCE_STREAM, Event


@dataclass(frozen=True)
class PresenceChanged(Event):
    """A user came online (first tab connected) or went offline (last tab gone)."""

    type = "presence.changed"
    user_id: int
    online: bool
    last_seen_at: datetime | None

    @property
    def stream(self) -> str:
        return PRESENCE_STREAM

    def payload(self) -> dict[str, Any]:
        seen = self.last_seen_at.isoformat() if self.last_seen_at else None
        return {"user_id": self.user_id, "online": self.online, "last_seen_at": seen}

    def control(self) -> dict[str, Any]:
        return {"presence": [self.user_id, self.online]}
