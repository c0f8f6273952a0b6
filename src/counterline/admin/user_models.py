"""CSV imports of users (admin/user_imports.py): one row per import, its progress and the
rows still to create, so any node can answer how far it has come."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class UserImport(Base):
    """``pending`` holds the valid rows not yet created (emptied when the import ends);
    ``one_time_passwords`` the passwords generated so far, until the admin who ran the
    import downloads them, once (then emptied and ``passwords_taken_at`` set)."""

    __tablename__ = "user_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="running")  # running, done, failed
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pending: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    one_time_passwords: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    passwords_taken_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # When its runner last committed a batch: a running import silent for long had its
    # process stop, and the next status read starts it again where it was.
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
