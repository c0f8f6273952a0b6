"""What the revise page (``pages.revise_notice_page``) starts from: the current revision as
its author wrote it, the quiz's right answers and explanations included, in the shape the
revision is posted back in (``QuizIn``). Only for who may revise the notice
(``actions.may_revise``, the rule of POST /api/v1/notices/{id}/revisions); its readers get
the questions without them (``actions.read_notice``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from counterline.accounts import policy
from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import Forbidden, NotFound
from counterline.messages.schemas import AttachmentOut
from counterline.notices import actions, attachments, queries
from counterline.notices.models import Notice
from counterline.notices.schemas import AudienceIn, QuestionIn, QuizIn


class RevisionDraft(BaseModel):
    """The revise form's starting point (the page's boot data ``draft``)."""

    id: int
    revision: int
    title: str
    body: str
    effective_at: datetime
    due_at: datetime
    audience: AudienceIn
    quiz: QuizIn | None
    attachments: list[AttachmentOut]


@dataclass(frozen=True, slots=True)
class Drafted:
    draft: RevisionDraft
    scope_branch_id: int | None  # a manager author's audience is cut to their branch
    people: list[str]  # the audience's named people, as the form shows them


async def find_revisable(unit: Unit, user: User, notice_id: int) -> Notice:
    """The notice, if ``user`` may revise it: NotFound as the API for a missing or
    archived one, Forbidden for anyone but its author or an administrator."""
    notice = await queries.find_notice(unit.session, notice_id)
    if notice is None or notice.archived:
        raise NotFound(actions.NO_SUCH_NOTICE)
    if not actions.may_revise(user, notice):
        raise Forbidden(actions.REVISES_OWN)
    return notice


async def revisable(unit: Unit, user: User, notice_id: int) -> bool:
    """Whether the pages show ``user`` a "Revise" link to this notice."""
    notice = await queries.find_notice(unit.session, notice_id)
    return notice is not None and not notice.archived and actions.may_revise(user, notice)


async def draft_revision(unit: Unit, user: User, notice_id: int) -> Drafted:
    notice = await find_revisable(unit, user, notice_id)
    questions = await queries.questions_of(unit.session, notice.id, notice.revision)
    quiz = None
    if questions:
        quiz = QuizIn(
            pass_mark=notice.pass_mark or 100,
            questions=[
                QuestionIn(
                    kind=question.kind,  # type: ignore[arg-type]
                    prompt=question.prompt,
                    options=question.options if question.kind == "single" else [],
                    correct=question.correct,
                    explanation=question.explanation,
                )
                for question in questions
            ],
        )
    audience = AudienceIn.model_validate(notice.audience)
    names = await queries.display_names(unit.session, audience.user_ids)
    author = await unit.session.get(User, notice.author_id)
    scope = None
    if author is not None and not policy.oversees_all_notices(author.role):
        scope = author.branch_id
    draft = RevisionDraft(
        id=notice.id,
        revision=notice.revision,
        title=notice.title,
        body=notice.body,
        effective_at=notice.effective_at,
        due_at=notice.due_at,
        audience=audience,
        quiz=quiz,
        attachments=await attachments.of_revision(unit.session, notice.id, notice.revision),
    )
    people = [names[user_id] for user_id in audience.user_ids if user_id in names]
    return Drafted(draft, scope, people)
