"""The public shapes of questions and the FAQ."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from counterline.faq.models import MAX_ANSWER_LENGTH, MAX_QUESTION_LENGTH, MAX_TOPIC_LENGTH
from counterline.ids import Id

QuestionState = Literal["open", "answered"]


class QuestionOut(BaseModel):
    message_id: int
    room_id: int
    state: QuestionState = Field(description="`answered` once a trainer accepted an answer.")
    preview: str = Field(description="The start of the question's text.")
    marked_by: str = Field(description="Display name of who marked it.")
    marked_by_id: int = Field(description="Id of who marked it.")
    answer_id: int | None = Field(description="The accepted answer's message id.")
    faq_id: int | None = Field(description="The FAQ entry made of it, if it is still there.")


class QuestionList(BaseModel):
    questions: list[QuestionOut]
    can_accept: bool = Field(
        description="Whether you may accept answers and edit the FAQ (trainers, administrators)."
    )


class AnswerIn(BaseModel):
    answer_id: Id = Field(description="The message (in the question's room) that answers it.")
    topic: str = Field(default="", max_length=MAX_TOPIC_LENGTH, description="The FAQ's topic.")


class FaqEntryIn(BaseModel):
    topic: str = Field(default="", max_length=MAX_TOPIC_LENGTH)
    question: str = Field(min_length=1, max_length=MAX_QUESTION_LENGTH)
    answer: str = Field(
        min_length=1, max_length=MAX_ANSWER_LENGTH, description="Markdown, as in messages."
    )


class FaqEntryOut(BaseModel):
    id: int
    topic: str = Field(description="Empty: no topic (shown as General).")
    question: str
    answer: str = Field(description="As typed (Markdown).")
    answer_html: str = Field(description="As shown, sanitised.")
    url: str = Field(description="The entry's page.")
    source_url: str | None = Field(
        description="The question in its conversation (for its room's members), if it came "
        "from one."
    )
    room_id: int | None
    question_message_id: int | None
    answer_message_id: int | None
    updated_by: str
    updated_at: datetime


class TopicCount(BaseModel):
    topic: str
    count: int


class FaqList(BaseModel):
    entries: list[FaqEntryOut] = Field(description="By topic, then newest first.")
    topics: list[TopicCount] = Field(description="Every topic with its number of entries.")


class FaqSuggestion(BaseModel):
    id: int
    topic: str
    question: str
    url: str
    score: float = Field(description="How alike, 0 to 1.")


class FaqSuggestionList(BaseModel):
    suggestions: list[FaqSuggestion]
