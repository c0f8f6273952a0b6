from __future__ import annotations

from counterline.db import Unit
from counterline.streams.models import AccessChange


def access_changed(unit: Unit, user_id: int) -> None:
    """Note in the unit's transaction that what ``user_id`` may read has changed; every
    node re-checks that user's open sockets once it commits."""
    unit.session.add(AccessChange(user_id=user_id))
