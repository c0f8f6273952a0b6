from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class RoomKind(enum.StrEnum):
    company = "company"
    branch = "branch"
    topic = "topic"
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


class Membership(Base):
    """A user's place in a room; read positions and mute settings will live here."""

    __tablename__ = "room_members"
    __table_args__ = (UniqueConstraint("room_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
