from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class RoomKind(enum.StrEnum):
    company = "company"
    branch = "branch"
    topic = "topic"
    notice = "notice"  # a notice's discussion thread: joined from the notice (notices.discussion)
    conversation = "conversation"  # direct messages and small groups: fixed members, no name key


class Visibility(enum.StrEnum):
    public = "public"
    invite_only = "invite_only"


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RoomKind] = mapped_column(Enum(RoomKind, native_enum=False, length=16))
    name: Mapped[str] = mapped_column(String(100))
    # rooms.naming.name_key(name): two named rooms can't share it (None for conversations).
    name_key: Mapped[str | None] = mapped_column(String(200), unique=True, index=True, default=None)
    # "dm:<smaller user id>:<larger user id>" for a 1:1 conversation, so the same two people
    # always get the same one back; None for every other room, group conversations included.
    conversation_key: Mapped[str | None] = mapped_column(
        String(64), unique=True, index=True, default=None
    )
    visibility: Mapped[Visibility] = mapped_column(
        Enum(Visibility, native_enum=False, length=16), default=Visibility.public
    )
    branch_id: Mapped[int | None] = mapped_column(
        ForeignKey("branches.id"), unique=True, default=None
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The seq of the room's newest message (messages.seq): the post path bumps it once per
    # room per group, in the insert's transaction. Unread = last_seq - a member's read_seq.
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Set when an administrator archives the room: read-only (posts and edits refused),
    # hidden from room lists, its history kept and readable by its members.
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Bumped by the database's own triggers (migration 0020) whenever what a room list shows
    # of the room changes: its name, kind, visibility or branch, a conversation's members or
    # their names. Room lists keep each room's card until it moves (rooms/cards.py).
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class Membership(Base):
    """A user's place in a room, with their read position (mute settings will live here).

    ``read_seq`` is the seq (messages.seq) of the newest message they have read, and
    ``last_read_id`` its id (0: none yet); both only move forwards (rooms.reading)."""

    __tablename__ = "room_members"
    __table_args__ = (UniqueConstraint("room_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_read_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=0, server_default=text("0")
    )
    # No desktop notifications from this room (inbox.routes: PUT /rooms/{id}/mute).
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
