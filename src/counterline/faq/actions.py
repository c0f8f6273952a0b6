"""Marking questions, accepting answers, and the FAQ they make ("one answer for every
branch").

Anyone marks their own message as a question; trainers and administrators mark anyone's,
accept a reply in the same room as its answer (which makes or updates its FAQ entry), and
write, edit and delete entries. Every identified person reads the whole FAQ: an answer
given in one branch's room is for every branch. Entries are found through the document
index (``search.documents``, kind ``faq``): by their words on the FAQ page, and by
likeness while someone types a question (``suggest``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from counterline.accounts import policy
from counterline.accounts.models import User
from counterline.audit.actions import record
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound, UserError
from counterline.faq import queries
from counterline.faq.documents import KIND, searchable_text
from counterline.faq.events import QuestionChanged
from counterline.faq.models import MAX_QUESTION_LENGTH, FaqEntry, Question
from counterline.faq.schemas import (
    FaqEntryIn,
    FaqEntryOut,
    FaqList,
    FaqSuggestion,
    QuestionList,
    QuestionOut,
    TopicCount,
)
from counterline.i18n import N_
from counterline.messages.queries import StoredMessage, find_message
from counterline.messages.rendering import render_body
from counterline.rooms.actions import NOT_A_MEMBER, check_open
from counterline.rooms.models import Room
from counterline.rooms.queries import find_room_of_member
from counterline.search.documents import (
    find_documents,
    find_similar,
    index_document,
    unindex_document,
)

PREVIEW_LENGTH = 140
SUGGESTIONS = 3
# find_similar's score below which an entry is not offered while typing.
MIN_LIKENESS = 0.3
MIN_SUGGEST_LENGTH = 4

NO_SUCH_MESSAGE = N_("Message not found.")
NO_SUCH_QUESTION = N_("This message is not marked as a question.")
NO_SUCH_ENTRY = N_("FAQ entry not found.")
MARKS_OWN = N_("You can mark only your own messages as questions.")
CURATORS_ONLY = N_("Only trainers and administrators accept answers and edit the FAQ.")
ANSWER_ELSEWHERE = N_("The answer must be another message of the same room.")
DELETED = N_("This message was deleted.")
NEEDS_BOTH = N_("An FAQ entry needs a question and an answer.")
TOO_LONG = N_("Too long: a topic has at most 40 characters, a question 500, an answer 10,000.")


def _flat(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def _check_curator(user: User) -> None:
    if not policy.curates_faq(user.role):
        raise Forbidden(CURATORS_ONLY)


async def _message_in_room(unit: Unit, user: User, message_id: int) -> tuple[StoredMessage, Room]:
    """A live message of a room the user is a member of (NotFound otherwise)."""
    message = await find_message(unit.session, message_id)
    if message is None:
        raise NotFound(NO_SUCH_MESSAGE)
    room = await find_room_of_member(unit.session, message.room_id, user.id)
    if room is None:
        raise NotFound(NOT_A_MEMBER)
    if message.deleted_at is not None:
        raise UserError(DELETED)
    return message, room


def _question_out(row: Any) -> QuestionOut:
    question: Question = row.Question
    return QuestionOut(
        message_id=question.message_id,
        room_id=question.room_id,
        state="answered" if question.answer_id is not None else "open",
        preview=_flat(row.body, PREVIEW_LENGTH),
        marked_by=row.display_name,
        marked_by_id=question.marked_by_id,
        answer_id=question.answer_id,
        faq_id=row.faq_id,
    )


async def _announce(unit: Unit, room_id: int, message_id: int) -> QuestionOut | None:
    await unit.session.flush()
    row = await queries.question_row(unit.session, message_id)
    out = _question_out(row) if row is not None else None
    shown = out.model_dump(mode="json") if out is not None else None
    unit.emit(QuestionChanged(room_id=room_id, question_id=message_id, question=shown))
    return out


async def room_questions(unit: Unit, user: User, room_id: int) -> QuestionList:
    if await find_room_of_member(unit.session, room_id, user.id) is None:
        raise NotFound(NOT_A_MEMBER)
    rows = await queries.question_rows(unit.session, room_id)
    return QuestionList(
        questions=[_question_out(row) for row in rows], can_accept=policy.curates_faq(user.role)
    )


async def mark_question(unit: Unit, user: User, message_id: int) -> QuestionOut:
    """Mark a message as a question (again: nothing changes)."""
    message, room = await _message_in_room(unit, user, message_id)
    check_open(room)
    if message.author_id != user.id and not policy.curates_faq(user.role):
        raise Forbidden(MARKS_OWN)
    if await queries.find_question(unit.session, message_id) is None:
        unit.session.add(
            Question(
                message_id=message_id, room_id=room.id, marked_by_id=user.id, marked_at=utcnow()
            )
        )
    out = await _announce(unit, room.id, message_id)
    assert out is not None
    return out


async def unmark_question(unit: Unit, user: User, message_id: int) -> None:
    """No question any more. Its FAQ entry, if any, stays (trainers delete entries)."""
    message, room = await _message_in_room(unit, user, message_id)
    question = await queries.find_question(unit.session, message_id)
    if question is None:
        raise NotFound(NO_SUCH_QUESTION)
    if user.id not in (message.author_id, question.marked_by_id) and not policy.curates_faq(
        user.role
    ):
        raise Forbidden(MARKS_OWN)
    await unit.session.delete(question)
    await _announce(unit, room.id, message_id)


async def accept_answer(
    unit: Unit, curator: User, message_id: int, answer_id: int, topic: str, *, client_ip: str
) -> FaqEntryOut:
    """Accept ``answer_id`` as the answer to the question ``message_id``: the pair becomes
    an FAQ entry (or, if the question has one, its answer is replaced by this one)."""
    _check_curator(curator)
    question_message, room = await _message_in_room(unit, curator, message_id)
    question = await queries.find_question(unit.session, message_id)
    if question is None:
        raise NotFound(NO_SUCH_QUESTION)
    answer = await find_message(unit.session, answer_id)
    if answer is None or answer.room_id != room.id or answer.id == message_id:
        raise UserError(ANSWER_ELSEWHERE)
    if answer.deleted_at is not None:
        raise UserError(DELETED)
    now = utcnow()
    question.answer_id, question.answered_by_id, question.answered_at = answer.id, curator.id, now
    entry = await queries.entry_of_question(unit.session, message_id)
    created = entry is None
    if entry is None:
        entry = FaqEntry(
            topic=_topic(topic),
            question=_flat(question_message.body, MAX_QUESTION_LENGTH),
            room_id=room.id,
            question_message_id=message_id,
            created_by_id=curator.id,
            created_at=now,
        )
        unit.session.add(entry)
    elif topic.strip():
        entry.topic = _topic(topic)
    entry.answer, entry.answer_html = answer.body, render_body(answer.body)
    entry.answer_message_id, entry.updated_by_id, entry.updated_at = answer.id, curator.id, now
    await unit.session.flush()
    await _index(unit, entry)
    record(
        unit,
        "faq.answer_accepted",
        actor_id=curator.id,
        target=f"faq:{entry.id}",
        client_ip=client_ip,
        question_message_id=message_id,
        answer_message_id=answer.id,
        created=created,
    )
    await _announce(unit, room.id, message_id)
    return await _entry_out(unit, entry.id)


def _topic(topic: str) -> str:
    return " ".join(topic.split())


async def _index(unit: Unit, entry: FaqEntry) -> None:
    await index_document(unit.session, KIND, entry.id, searchable_text(entry))


async def write_entry(unit: Unit, curator: User, new: FaqEntryIn, *, client_ip: str) -> FaqEntryOut:
    """An entry written directly (not from a conversation)."""
    _check_curator(curator)
    now = utcnow()
    entry = FaqEntry(created_by_id=curator.id, created_at=now)
    _fill(entry, new, curator, now)
    unit.session.add(entry)
    await unit.session.flush()
    await _index(unit, entry)
    record(unit, "faq.written", actor_id=curator.id, target=f"faq:{entry.id}", client_ip=client_ip)
    return await _entry_out(unit, entry.id)


def _fill(entry: FaqEntry, new: FaqEntryIn, curator: User, now: datetime) -> None:
    question, answer = _flat(new.question, MAX_QUESTION_LENGTH), new.answer.strip()
    if not question or not answer:
        raise UserError(NEEDS_BOTH)
    entry.topic, entry.question = _topic(new.topic), question
    entry.answer, entry.answer_html = answer, render_body(answer)
    entry.updated_by_id, entry.updated_at = curator.id, now


async def edit_entry(
    unit: Unit, curator: User, entry_id: int, change: FaqEntryIn, *, client_ip: str
) -> FaqEntryOut:
    """Trainers turn the conversation's words into a clean entry."""
    _check_curator(curator)
    entry = await _find(unit, entry_id)
    before = {"topic": entry.topic, "question": entry.question, "answer": entry.answer}
    _fill(entry, change, curator, utcnow())
    await _index(unit, entry)
    record(
        unit,
        "faq.edited",
        actor_id=curator.id,
        target=f"faq:{entry.id}",
        client_ip=client_ip,
        before=before,
    )
    return await _entry_out(unit, entry.id)


async def delete_entry(unit: Unit, curator: User, entry_id: int, *, client_ip: str) -> None:
    """Remove an entry; its question (if any) is open again."""
    _check_curator(curator)
    entry = await _find(unit, entry_id)
    question_id, room_id = entry.question_message_id, entry.room_id
    record(
        unit,
        "faq.deleted",
        actor_id=curator.id,
        target=f"faq:{entry.id}",
        client_ip=client_ip,
        question=entry.question,
        answer=entry.answer,
    )
    await unit.session.delete(entry)
    await unindex_document(unit.session, KIND, entry_id)
    question = await queries.find_question(unit.session, question_id) if question_id else None
    if question is not None and room_id is not None:
        question.answer_id = question.answered_by_id = question.answered_at = None
        await _announce(unit, room_id, question.message_id)


async def _find(unit: Unit, entry_id: int) -> FaqEntry:
    entry = await queries.find_entry(unit.session, entry_id)
    if entry is None:
        raise NotFound(NO_SUCH_ENTRY)
    return entry


def _out(row: Any) -> FaqEntryOut:
    entry: FaqEntry = row.FaqEntry
    source = None
    if entry.room_id is not None and entry.question_message_id is not None:
        source = f"/rooms/{entry.room_id}?at={entry.question_message_id}"
    return FaqEntryOut(
        id=entry.id,
        topic=entry.topic,
        question=entry.question,
        answer=entry.answer,
        answer_html=entry.answer_html,
        url=f"/faq/{entry.id}",
        source_url=source,
        room_id=entry.room_id,
        question_message_id=entry.question_message_id,
        answer_message_id=entry.answer_message_id,
        updated_by=row.display_name,
        updated_at=entry.updated_at,
    )


async def _entry_out(unit: Unit, entry_id: int) -> FaqEntryOut:
    row = await queries.entry_row(unit.session, entry_id)
    if row is None:
        raise NotFound(NO_SUCH_ENTRY)
    return _out(row)


async def read_entry(unit: Unit, entry_id: int) -> FaqEntryOut:
    return await _entry_out(unit, entry_id)


async def list_entries(unit: Unit, *, query: str = "", topic: str | None = None) -> FaqList:
    """The FAQ by topic; with ``query``, the entries it finds, best match first."""
    topics = [
        TopicCount(topic=name, count=count)
        for name, count in await queries.topic_counts(unit.session)
    ]
    if not query.strip():
        rows = await queries.entry_rows(unit.session, topic=topic)
        return FaqList(entries=[_out(row) for row in rows], topics=topics)
    found = await find_documents(unit.session, KIND, query, limit=queries.MAX_ENTRIES)
    rank = {entry_id: place for place, entry_id in enumerate(found)}
    rows = await queries.entry_rows(unit.session, topic=topic, ids=found)
    rows.sort(key=lambda row: rank[row.FaqEntry.id])
    return FaqList(entries=[_out(row) for row in rows], topics=topics)


async def suggest(unit: Unit, text: str) -> list[FaqSuggestion]:
    """Entries that look like the question being typed, most alike first."""
    if len("".join(text.split())) < MIN_SUGGEST_LENGTH:
        return []
    similar = await find_similar(unit.session, KIND, text, limit=SUGGESTIONS)
    scores = {entry_id: score for entry_id, score in similar if score >= MIN_LIKENESS}
    if not scores:
        return []
    rows = await queries.entry_rows(unit.session, ids=scores)
    rows.sort(key=lambda row: -scores[row.FaqEntry.id])
    return [
        FaqSuggestion(
            id=row.FaqEntry.id,
            topic=row.FaqEntry.topic,
            question=row.FaqEntry.question,
            url=f"/faq/{row.FaqEntry.id}",
            score=round(scores[row.FaqEntry.id], 3),
        )
        for row in rows
    ]
