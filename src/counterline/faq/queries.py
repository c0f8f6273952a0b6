from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import User
from counterline.faq.models import FaqEntry, Question
from counterline.messages.models import Message

MAX_ENTRIES = 500

_QUESTIONS = (
    select(Question, Message.body, User.display_name, FaqEntry.id.label("faq_id"))
    .join(Message, Message.id == Question.message_id)
    .join(User, User.id == Question.marked_by_id)
    .outerjoin(FaqEntry, FaqEntry.question_message_id == Question.message_id)
)


async def find_question(db: AsyncSession, message_id: int) -> Question | None:
    return await db.get(Question, message_id)


async def question_rows(db: AsyncSession, room_id: int) -> list[Row[Any]]:
    """The room's questions (deleted messages left out) with the question's text, who
    marked it and its FAQ entry's id."""
    statement = _QUESTIONS.where(
        Question.room_id == room_id, Message.deleted_at.is_(None)
    ).order_by(Question.message_id)
    return list((await db.execute(statement)).all())


async def question_row(db: AsyncSession, message_id: int) -> Row[Any] | None:
    return (await db.execute(_QUESTIONS.where(Question.message_id == message_id))).first()


async def find_entry(db: AsyncSession, entry_id: int) -> FaqEntry | None:
    return await db.get(FaqEntry, entry_id)


async def entry_of_question(db: AsyncSession, message_id: int) -> FaqEntry | None:
    return await db.scalar(select(FaqEntry).where(FaqEntry.question_message_id == message_id))


# What search shows of an entry (faq/documents.py): everyone may open every entry.
SEARCHED = select(
    FaqEntry.id,
    FaqEntry.topic,
    FaqEntry.question,
    FaqEntry.answer,
    FaqEntry.updated_at.label("time"),
)


def _entries() -> Any:
    return select(FaqEntry, User.display_name).join(User, User.id == FaqEntry.updated_by_id)


async def entry_rows(
    db: AsyncSession, *, topic: str | None = None, ids: Collection[int] | None = None
) -> list[Row[Any]]:
    """Entries with who last changed them: by topic, then newest first (at most
    ``MAX_ENTRIES``); with ``ids``, only those."""
    statement = _entries()
    if topic is not None:
        statement = statement.where(FaqEntry.topic == topic)
    if ids is not None:
        statement = statement.where(FaqEntry.id.in_(list(ids)))
    statement = statement.order_by(FaqEntry.topic, FaqEntry.updated_at.desc(), FaqEntry.id.desc())
    return list((await db.execute(statement.limit(MAX_ENTRIES))).all())


async def entry_row(db: AsyncSession, entry_id: int) -> Row[Any] | None:
    return (await db.execute(_entries().where(FaqEntry.id == entry_id))).first()


async def topic_counts(db: AsyncSession) -> list[tuple[str, int]]:
    statement = (
        select(FaqEntry.topic, func.count()).group_by(FaqEntry.topic).order_by(FaqEntry.topic)
    )
    return [(topic, count) for topic, count in (await db.execute(statement)).all()]


async def entry_ids_after(db: AsyncSession, after: int, limit: int) -> list[FaqEntry]:
    statement = select(FaqEntry).where(FaqEntry.id > after).order_by(FaqEntry.id).limit(limit)
    return list((await db.scalars(statement)).all())
