from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class AuditEntry(Base):
    """An accountable change: who did what to which thing, from where, when.

    Append-only (database triggers refuse UPDATE and DELETE) and chained: ``entry_hash``
    covers the fields and ``prev_hash``, the hash of the entry before (audit/chain.py).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(128), default="", index=True)
    client_ip: Mapped[str] = mapped_column(String(45), default="")
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
