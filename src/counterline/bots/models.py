"""Bot accounts and outgoing webhooks.

A bot is a user row an administrator made for a program: active (it holds API tokens and
reads the stream like any client) but without a password, so nobody can log in as it. It
posts only in the rooms it was made a member of.

An outgoing webhook watches one room: a message that starts with one of its trigger words is
sent, as Mattermost's outgoing webhooks send it, to its callback URL by a durable job
(``bots.tasks``); a ``text`` in the answer is posted into the room as the hook's bot (an
inactive account, like an incoming hook's), or under the answer's ``username`` by another bot
of the same hook (``OutgoingHookAuthor``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class Bot(Base):
    __tablename__ = "bots"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutgoingHook(Base):
    __tablename__ = "outgoing_hooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    # One per line; a message starting with one of them is sent to ``callback_url``.
    trigger_words: Mapped[str] = mapped_column(String(1100))
    callback_url: Mapped[str] = mapped_column(String(2000))
    # Sent in every payload so the receiver can tell the call is ours (Mattermost's
    # ``token``); kept as is, since it is sent.
    token: Mapped[str] = mapped_column(String(64))
    bot_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class OutgoingHookAuthor(Base):
    """The bot an outgoing hook's answers are posted as under an answer's ``username``."""

    __tablename__ = "outgoing_hook_authors"

    hook_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_hooks.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
