"""The access-change feed: a row per change to what a user may read, written in the
change's own transaction. Plumbing, so that every capability that changes access (accounts,
rooms, an admin console) can write it without importing the ``streams`` capability, which
follows the feed and re-checks open sockets (streams/follower.py, docs/realtime.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, Unit, UtcDateTime, utcnow


class AccessChange(Base):
    """A user's access changed (membership, role, activity, a session or token ended).

    Written in the same transaction as the change, whatever made it (a request on any
    node, the CLI, a future admin console); every node follows this feed and re-checks
    that user's open sockets (see docs/realtime.md).
    """

    __tablename__ = "access_changes"
    __table_args__ = (Index("ix_access_changes_changed_at", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def access_changed(unit: Unit, user_id: int) -> None:
    """Note in the unit's transaction that what ``user_id`` may read has changed; every
    node re-checks that user's open sockets once it commits."""
    unit.session.add(AccessChange(user_id=user_id))
