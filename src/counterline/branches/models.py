from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class Branch(Base):
    """A business hall (营业厅): the unit clerks belong to."""

    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Set when an administrator archives the branch (no active users left); its room is
    # archived with it. Archived branches keep their history and their name.
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
