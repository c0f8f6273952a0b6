"""Notices, their revisions and quizzes, the audience as it was at publication, and what
each person did about them.

The audience is kept, not recomputed: ``notice_recipients`` holds one row per person in
it, with their branch and role *as they were* when they joined it (at publication, or at a
revision that asks everyone to acknowledge again). Moving to another branch later changes
nothing here, so the record shows who was asked and when. Each row also carries that
person's state for the revision that must be acknowledged (``acknowledged_at``,
``completed_at``), so compliance is one GROUP BY over the notice's rows by branch
(``ix_notice_recipients_notice_id_branch_id``). Every acknowledgement and every quiz
attempt is also kept in full (``notice_acknowledgements``, ``notice_attempts``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow


class Notice(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # The current revision's text, as typed and as shown (messages.rendering).
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The latest revision everyone must acknowledge (the first, or one asking again).
    ack_revision: Mapped[int] = mapped_column(Integer, default=1)
    # Percent of the current quiz's questions to answer right; None: no quiz.
    pass_mark: Mapped[int | None] = mapped_column(Integer, default=None)
    # Who it was meant for: {"all": bool, "branch_ids": [...], "roles": [...], "user_ids": [...]}.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The room of the notice's discussion thread, made when someone first opens it.
    discussion_room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), unique=True, default=None
    )


class NoticeRevision(Base):
    __tablename__ = "notice_revisions"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    changes: Mapped[str] = mapped_column(String(1000), default="")
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=True)
    pass_mark: Mapped[int | None] = mapped_column(Integer, default=None)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class NoticeAttachment(Base):
    """An upload shown with one revision of a notice, in ``position`` order. Each revision
    lists its own (a revision keeping a picture lists it again), so an earlier revision's
    list stays on the record. Who may attach and download them: notices/attachments.py."""

    __tablename__ = "notice_attachments"
    __table_args__ = (Index("ix_notice_attachments_upload_id", "upload_id"),)

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("uploads.id")
    )


class NoticeQuestion(Base):
    """One question of a revision's quiz: single choice, or true/false (options 对/错)."""

    __tablename__ = "notice_questions"
    __table_args__ = (Index("ix_notice_questions_notice_id_revision", "notice_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # "single" or "true_false"
    prompt: Mapped[str] = mapped_column(String(1000))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    correct: Mapped[int] = mapped_column(Integer)  # index into options
    explanation: Mapped[str] = mapped_column(String(2000), default="")


class NoticeRecipient(Base):
    """A person in a notice's audience, with their branch and role as they were when they
    joined it, and their state for the revision to acknowledge (``Notice.ack_revision``)."""

    __tablename__ = "notice_recipients"
    __table_args__ = (
        Index("ix_notice_recipients_notice_id_branch_id", "notice_id", "branch_id"),
        Index("ix_notice_recipients_user_id_notice_id", "user_id", "notice_id"),
    )

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Read and acknowledged (for a quiz: answered at least once) the revision to acknowledge.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Done: acknowledged, and the quiz passed where there is one.
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_score: Mapped[int | None] = mapped_column(Integer, default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class NoticeAcknowledgement(Base):
    """ "I have read and understood" (after passing the quiz, where there is one)."""

    __tablename__ = "notice_acknowledgements"
    __table_args__ = (
        Index("ix_notice_acknowledgements_notice_id_user_id", "notice_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revision: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    client_ip: Mapped[str] = mapped_column(String(45))


class NoticeAttempt(Base):
    """One try at a revision's quiz, passed or not."""

    __tablename__ = "notice_attempts"
    __table_args__ = (Index("ix_notice_attempts_notice_id_user_id", "notice_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revision: Mapped[int] = mapped_column(Integer)
    answers: Mapped[list[int]] = mapped_column(JSON, default=list)
    score: Mapped[int] = mapped_column(Integer)  # percent
    passed: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    client_ip: Mapped[str] = mapped_column(String(45))
