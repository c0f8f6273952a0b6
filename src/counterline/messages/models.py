from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class Message(Base):
    """One message, on the record: who, from which branch and address, when."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("author_id", "client_id"),
        Index("ix_messages_room_id_id", "room_id", "id"),
        Index("ix_messages_room_id_created_at", "room_id", "created_at"),
        # Someone's messages newest first: search's from: filter (migration 0008).
        Index("ix_messages_author_id_id", "author_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(45))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, doc="Rendered once, when posted.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime, doc="Last edit, if any.")
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # No foreign key: adding one would make SQLite copy the whole table on upgrade, and
    # users are never deleted.
    deleted_by_id: Mapped[int | None] = mapped_column(Integer)
    # What its @tokens resolved to when posted (messages.mentions), as MessageOut.mentions
    # shows it: [{"kind", "id", "name"}]; null when none.
    mentions: Mapped[list[dict[str, object]] | None] = mapped_column(
        JSON(none_as_null=True), default=None
    )
    # Its place in its room: 1, 2, 3… given by the post path (rooms.last_seq), so a
    # member's unread count is a subtraction, not a count. 0 for rows inserted around the
    # post path (bulk seeding); they never count as unread.
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class MessageRevision(Base):
    """One change to a message, on the record: what it was (``body`` and ``body_html``
    before the change), who changed it (``action``: edited or deleted), from which
    address, when. The original and every later version can be rebuilt from these rows
    and the message itself."""

    __tablename__ = "message_revisions"
    __table_args__ = (Index("ix_message_revisions_message_id_id", "message_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    editor_ip: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MessageAttachment(Base):
    """An upload shown with a message, in ``position`` order. An upload belongs to at
    most one message."""

    __tablename__ = "message_attachments"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"), unique=True)


class MessageAddressee(Base):
    """A message in someone's inbox (messages.mentions): a direct message to them, or one
    mentioning them, their branch, their role or everyone. ``reasons`` holds
    ``mentions.Reason`` bits. One row per person and message, so the inbox's newest page is
    a range of the primary key."""

    __tablename__ = "message_addressees"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
    )
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    reasons: Mapped[int] = mapped_column(SmallInteger)
