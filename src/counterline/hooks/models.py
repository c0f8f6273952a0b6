"""Incoming webhooks: a secret URL that posts into one room as a bot.

A hook's posts are ordinary messages, so they need an author (a ``users`` row) who is a
member of the room: each hook is backed by bot accounts, inactive (no login, no token, not in
the directory or member lists) and without a password. The hook's own bot carries its name;
with ``allow_username_override`` a post's ``username`` picks another bot of the same hook
(``IncomingHookAuthor``), so the record shows, per message, the name the tool posted under.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class IncomingHook(Base):
    __tablename__ = "incoming_hooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the secret in the URL (accounts.secrets.token_hash); the secret is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    bot_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    allow_username_override: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Revoked hooks keep their row: their bots stay the authors of what they posted.
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class IncomingHookAuthor(Base):
    """The bot a hook posts as under an overriding ``username`` (its display name)."""

    __tablename__ = "incoming_hook_authors"

    hook_id: Mapped[int] = mapped_column(
        ForeignKey("incoming_hooks.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
