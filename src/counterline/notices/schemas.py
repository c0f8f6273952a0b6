"""The public shapes of notices: publishing, reading, acknowledging, compliance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StrictBool, StrictInt

from counterline.accounts.policy import Role
from counterline.ids import Id
from counterline.messages.schemas import MAX_ATTACHMENTS, AttachmentOut

MAX_TITLE = 200
MAX_NOTICE_BODY = 20_000
MAX_QUESTIONS = 20
MAX_OPTIONS = 6
MAX_PROMPT = 1000
MAX_OPTION = 200
MAX_EXPLANATION = 2000
MAX_CHANGES = 1000
MAX_AUDIENCE_IDS = 5000

QuestionKind = Literal["single", "true_false"]
Status = Literal["pending", "acknowledged", "passed", "overdue"]


class AudienceIn(BaseModel):
    """Who must read it: everyone, or anyone in the chosen branches, roles or people."""

    all: StrictBool = Field(default=False, description="Every active person.")
    branch_ids: list[Id] = Field(default_factory=list, max_length=MAX_AUDIENCE_IDS)
    roles: list[Role] = Field(default_factory=list, max_length=4)
    user_ids: list[Id] = Field(default_factory=list, max_length=MAX_AUDIENCE_IDS)


class QuestionIn(BaseModel):
    kind: QuestionKind = Field(
        default="single",
        description="`single`: one right option among `options`; `true_false`: options "
        "are true and false (`options` ignored), `correct` 0 means true.",
    )
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT)
    options: list[str] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS,
        description="2 to 6 options for `single`.",
        json_schema_extra={"items": {"maxLength": MAX_OPTION}},
    )
    correct: StrictInt = Field(ge=0, lt=MAX_OPTIONS, description="Index of the right option.")
    explanation: str = Field(
        default="", max_length=MAX_EXPLANATION, description="Shown after a wrong answer."
    )


class QuizIn(BaseModel):
    questions: list[QuestionIn] = Field(min_length=1, max_length=MAX_QUESTIONS)
    pass_mark: StrictInt = Field(
        default=100, ge=1, le=100, description="Percent of questions to answer right."
    )


class NoticeIn(BaseModel):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(
        min_length=1, max_length=MAX_NOTICE_BODY, description="Markdown, as in messages."
    )
    audience: AudienceIn
    effective_at: AwareDatetime | None = Field(
        default=None, description="When the rule takes effect; now when absent."
    )
    due_at: AwareDatetime = Field(description="Acknowledge (and pass) by then.")
    quiz: QuizIn | None = None
    attachment_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS,
        description="Pictures and files to show with the notice, in order: ids from "
        "POST /api/v1/uploads, your own and not attached to a message or another notice; "
        "at most 10.",
    )


class RevisionIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_NOTICE_BODY)
    changes: str = Field(min_length=1, max_length=MAX_CHANGES, description="What changed.")
    requires_ack: StrictBool = Field(
        default=True, description="Everyone must acknowledge (and pass) again."
    )
    quiz: QuizIn | None = Field(
        default=None, description="The new quiz; absent: the revision has none."
    )
    due_at: AwareDatetime | None = Field(default=None, description="A new due date, if any.")
    attachment_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS,
        description="The new revision's pictures and files, in order; absent: it has none. "
        "List an earlier revision's again to keep it; new ones are ids from "
        "POST /api/v1/uploads, your own and not attached elsewhere; at most 10. Earlier "
        "revisions keep their own lists.",
    )


class AcknowledgementIn(BaseModel):
    answers: list[Annotated[StrictInt, Field(ge=0, lt=MAX_OPTIONS)]] | None = Field(
        default=None,
        max_length=MAX_QUESTIONS,
        description="With a quiz: the chosen option's index for each question, in order.",
    )


class QuestionOut(BaseModel):
    id: int
    position: int
    kind: QuestionKind
    prompt: str
    options: list[str]


class WrongAnswerOut(BaseModel):
    question_id: int
    position: int
    chosen: int | None
    explanation: str


class NoticeSummary(BaseModel):
    id: int
    title: str
    author: str
    created_at: datetime
    effective_at: datetime
    due_at: datetime
    revision: int
    has_quiz: bool
    status: Status | None = Field(
        description="Yours: `pending`, `acknowledged` (done; no quiz), `passed` (done; quiz "
        "passed) or `overdue` (not done by the due date); null if you are not in its audience."
    )
    attempts: int = 0
    last_score: int | None = None
    attachments: list[AttachmentOut] = Field(
        default_factory=list,
        description="The current revision's pictures and files, in order, as a message's "
        "`attachments`: pictures (`kind` `image`) show through `thumbnail_url`, files link "
        "to `url`. Its audience, its author and who oversees it may download them.",
    )


class NoticeOut(NoticeSummary):
    body: str
    body_html: str
    pass_mark: int | None
    questions: list[QuestionOut] = Field(description="Without the right answers.")
    changes: str = Field(description="What the current revision changed (empty at first).")
    audience: AudienceIn
    can_manage: bool = Field(description="You may revise it and see its compliance.")


class NoticeList(BaseModel):
    notices: list[NoticeSummary] = Field(description="Newest first.")


class NoticeCreated(BaseModel):
    id: int
    audience_size: int


class AcknowledgementOut(BaseModel):
    status: Status
    passed: bool = Field(description="Done: acknowledged, and the quiz passed if any.")
    score: int | None = Field(description="Percent right; null without a quiz.")
    correct: int | None = None
    total: int | None = None
    pass_mark: int | None = None
    wrong: list[WrongAnswerOut] = Field(default_factory=list)
    attempts: int


class RevisionOut(BaseModel):
    id: int
    revision: int
    requires_ack: bool
    audience_size: int


class MissingPerson(BaseModel):
    user_id: int
    name: str
    username: str
    branch_id: int
    overdue: bool
    attempts: int


class BranchCompliance(BaseModel):
    branch_id: int
    branch: str
    audience: int
    acknowledged: int = Field(description="Acknowledged (or answered the quiz at least once).")
    passed: int = Field(description="Done: acknowledged and, with a quiz, passed.")
    overdue: int = Field(description="Not done and past the due date.")


class ComplianceOut(BaseModel):
    notice_id: int
    title: str
    due_at: datetime
    has_quiz: bool
    branches: list[BranchCompliance]
    missing_count: int = Field(description="How many are not done yet.")
    missing: list[MissingPerson] = Field(
        description="Who is not done yet, by branch and name: the first `missing_limit`."
    )


class RemindersOut(BaseModel):
    reminded: int
