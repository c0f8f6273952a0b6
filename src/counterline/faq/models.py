"""Questions marked in a room's conversation, and the FAQ entries their accepted answers make.

A question is a message someone marked as one (``questions``, keyed by the message). When a
trainer accepts a reply as its answer, the pair becomes an FAQ entry (``faq_entries``): a
copy of both texts that trainers may then edit into a clean entry, with a topic, linked
back to the two messages. The entry keeps its text when the messages are later edited or
deleted: the FAQ is the written answer, the room is the conversation it came from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow

MESSAGE_ID = BigInteger().with_variant(Integer(), "sqlite")
MAX_TOPIC_LENGTH = 40
MAX_QUESTION_LENGTH = 500
MAX_ANSWER_LENGTH = 10_000


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_room_id_message_id", "room_id", "message_id"),)

    message_id: Mapped[int] = mapped_column(
        MESSAGE_ID, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    marked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answer_id: Mapped[int | None] = mapped_column(
        MESSAGE_ID, ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class FaqEntry(Base):
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(MAX_TOPIC_LENGTH), default="", index=True)
    question: Mapped[str] = mapped_column(String(MAX_QUESTION_LENGTH))
    # The answer as typed (Markdown subset) and as shown (messages.rendering).
    answer: Mapped[str] = mapped_column(Text)
    answer_html: Mapped[str] = mapped_column(Text)
    # Where it came from; None for an entry written on the FAQ page.
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), default=None
    )
    question_message_id: Mapped[int | None] = mapped_column(
        MESSAGE_ID, ForeignKey("messages.id", ondelete="SET NULL"), unique=True, default=None
    )
    answer_message_id: Mapped[int | None] = mapped_column(
        MESSAGE_ID, ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
