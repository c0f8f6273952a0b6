from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from counterline.accounts import policy
from counterline.accounts.policy import Role
from counterline.db import Base, UtcDateTime, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # The few deactivated accounts: a room's active members are its memberships less
        # theirs, counted without reading every member's row (rooms.queries.count_members).
        Index(
            "ix_users_inactive",
            "id",
            sqlite_where=text("active = 0"),
            postgresql_where=text("active = false"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Desktop notifications (accounts.notifications): all messages, mentions and direct
    # messages only, or none; and whether they make a sound.
    notify_level: Mapped[str] = mapped_column(
        String(8), default="mentions", server_default="mentions"
    )
    notify_sound: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def sees_client_ips(self) -> bool:
        return policy.sees_client_ips(self.role)

    @property
    def edits_any_message(self) -> bool:
        return policy.edits_any_message(self.role)

    @property
    def sees_message_history(self) -> bool:
        return policy.sees_message_history(self.role)


class Session(Base):
    """A server-side login session; the cookie holds the token, we keep its hash."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # What the token may do (policy.TokenScope values, space-separated): every request made
    # with it is checked against the scope its method and path need (deps.find_identity).
    scopes: Mapped[str] = mapped_column(String(64), default="read post", server_default="read post")
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class LoginAttempt(Base):
    """A failed login, kept for throttling and for the record."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_client_ip_at", "client_ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KnownAddress(Base):
    """An address a user has logged in from: login throttling spares the pair, so one
    guesser behind a branch's NAT cannot lock its clerks out."""

    __tablename__ = "known_addresses"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    last_login_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
