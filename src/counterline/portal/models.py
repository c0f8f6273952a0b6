"""The business-systems portal: the company's systems as links (web) or launchers (client
programs, through the URL scheme their vendor registers on the PC), who may see each, the
last status check of each web system, and each user's favourites and use counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class PortalEntry(Base):
    __tablename__ = "portal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(8), doc="web or client")
    # An uploaded picture (uploads.models.Upload), shown to everyone who sees the entry.
    icon_upload_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("uploads.id", ondelete="SET NULL"),
        default=None,
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # True: everyone sees it; else those of a chosen branch (if any are chosen) and of a
    # chosen role (if any are chosen): PortalEntryBranch, PortalEntryRole.
    visible_to_all: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where a change to "down" (and back) is announced, if anywhere.
    down_notice_room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), default=None
    )
    # The last status check (web entries): up, slow, down or unknown (never checked).
    status: Mapped[str] = mapped_column(String(8), default="unknown")
    status_since: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    response_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    status_detail: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Deleted entries keep their row (the audit log names them); nobody sees them.
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class PortalEntryBranch(Base):
    __tablename__ = "portal_entry_branches"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("portal_entries.id", ondelete="CASCADE"), primary_key=True
    )
    branch_id: Mapped[int] = mapped_column(
        ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True
    )


class PortalEntryRole(Base):
    __tablename__ = "portal_entry_roles"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("portal_entries.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class PortalUserEntry(Base):
    """One user's use of one entry: their favourite (and where in their order) and how
    often they opened it."""

    __tablename__ = "portal_user_entries"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("portal_entries.id", ondelete="CASCADE"), primary_key=True
    )
    favourite_position: Mapped[int | None] = mapped_column(Integer, default=None)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
