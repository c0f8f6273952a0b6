"""Publishing, revising and acknowledging notices; what each person sees of them.

Who: trainers and administrators publish to anyone; a manager publishes within their own
branch (every audience they name is cut to it, and naming another branch or a person of
another branch is refused). The author (or an administrator) revises. Trainers and
administrators oversee every notice's compliance, a manager their branch's.

The audience is fixed when the notice is published (``notice_recipients``, with each
person's branch and role as they were): a person who moves branch or changes role later
stays in it, as they were, and someone who joins a targeted branch afterwards is not added.
A revision that asks for acknowledgement again re-opens everyone's row and adds who the
definition names by then (``added_at`` says when each person joined).

A notice is delivered at publication, to each person's own stream once the transaction has
committed (``NoticeAssigned``); ``effective_at`` is when the rule it announces applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from counterline.accounts import policy
from counterline.accounts.models import User
from counterline.accounts.policy import Role
from counterline.audit.actions import record
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound, UserError
from counterline.i18n import N_
from counterline.jobs.queue import enqueue
from counterline.messages.rendering import render_body
from counterline.messages.schemas import AttachmentOut
from counterline.notices import attachments, queries
from counterline.notices.documents import index_notice, unindex_notice
from counterline.notices.events import NoticeAssigned, NoticeCompleted
from counterline.notices.models import (
    Notice,
    NoticeAcknowledgement,
    NoticeAttempt,
    NoticeQuestion,
    NoticeRecipient,
    NoticeRevision,
)
from counterline.notices.schemas import (
    AcknowledgementOut,
    AudienceIn,
    BranchCompliance,
    ComplianceOut,
    MissingPerson,
    NoticeIn,
    NoticeOut,
    NoticeSummary,
    QuestionOut,
    QuizIn,
    RevisionIn,
    Status,
    WrongAnswerOut,
)

NO_SUCH_NOTICE = N_("There is no such notice.")
NOT_YOURS = N_("This notice is not addressed to you.")
ALREADY_DONE = N_("You have already completed this notice.")
EMPTY_AUDIENCE = N_("Choose who must read the notice: everyone, branches, roles or people.")
NOBODY = N_("Nobody is in this audience.")
OWN_BRANCH_ONLY = N_("Managers publish notices to their own branch only.")
NO_SUCH_BRANCH = N_("There is no branch with the id %(id)s.")
NO_SUCH_PERSON = N_("There is no person with the id %(id)s.")
DUE_BEFORE_EFFECTIVE = N_("The due date must come after the effective date.")
DUE_TOO_FAR = N_("The due date must be within five years.")
ANSWER_EVERY_QUESTION = N_("Answer each of the %(count)s questions.")
BAD_OPTIONS = N_("Question %(number)s needs 2 to 6 options, each 1 to 200 characters.")
BAD_CORRECT = N_("Question %(number)s: the right answer must be one of its options.")
REVISES_OWN = N_("Only the author or an administrator may revise this notice.")
ARCHIVES_OWN = N_("Only the author or an administrator may archive this notice.")
OVERSEES_REFUSED = N_("You may not see this notice's compliance.")
TRUE_FALSE = ["true", "false"]
MAX_AHEAD = timedelta(days=5 * 366)
DEFAULT_MISSING = 200


def _status(row: NoticeRecipient | None, notice: Notice, now: datetime) -> Status | None:
    if row is None:
        return None
    if row.completed_at is not None:
        return "passed" if notice.pass_mark is not None else "acknowledged"
    return "overdue" if now > notice.due_at else "pending"


def _audience_of(new: AudienceIn) -> dict[str, Any]:
    return {
        "all": new.all,
        "branch_ids": sorted(set(new.branch_ids)),
        "roles": sorted({str(role) for role in new.roles}),
        "user_ids": sorted(set(new.user_ids)),
    }


async def _check_audience(unit: Unit, author: User, audience: dict[str, Any]) -> int | None:
    """The branch the audience is cut to (a manager's own), None for everyone else."""
    if not (audience["all"] or audience["branch_ids"] or audience["roles"] or audience["user_ids"]):
        raise UserError(EMPTY_AUDIENCE)
    within = None if policy.oversees_all_notices(author.role) else author.branch_id
    known = await queries.branch_ids_existing(unit.session, audience["branch_ids"])
    for branch_id in audience["branch_ids"]:
        if branch_id not in known:
            raise UserError(NO_SUCH_BRANCH, id=branch_id)
        if within is not None and branch_id != within:
            raise Forbidden(OWN_BRANCH_ONLY)
    people = await queries.users_existing(unit.session, audience["user_ids"])
    for user_id in audience["user_ids"]:
        if user_id not in people:
            raise UserError(NO_SUCH_PERSON, id=user_id)
        if within is not None and people[user_id] != within:
            raise Forbidden(OWN_BRANCH_ONLY)
    return within


def _check_dates(effective_at: datetime, due_at: datetime, now: datetime) -> None:
    if due_at <= effective_at:
        raise UserError(DUE_BEFORE_EFFECTIVE)
    if due_at > now + MAX_AHEAD or effective_at > now + MAX_AHEAD:
        raise UserError(DUE_TOO_FAR)


def _questions(quiz: QuizIn | None, notice_id: int, revision: int) -> list[NoticeQuestion]:
    if quiz is None:
        return []
    made = []
    for position, question in enumerate(quiz.questions, start=1):
        if question.kind == "true_false":
            options = list(TRUE_FALSE)
        else:
            options = [" ".join(option.split()) for option in question.options]
            if not 2 <= len(options) <= 6 or not all(0 < len(o) <= 200 for o in options):
                raise UserError(BAD_OPTIONS, number=position)
        if question.correct >= len(options):
            raise UserError(BAD_CORRECT, number=position)
        made.append(
            NoticeQuestion(
                notice_id=notice_id,
                revision=revision,
                position=position,
                kind=question.kind,
                prompt=question.prompt.strip(),
                options=options,
                correct=question.correct,
                explanation=question.explanation.strip(),
            )
        )
    return made


@dataclass(frozen=True, slots=True)
class Reminders:
    """When automatic reminders go out: hours before and after the due date (0: none)."""

    hours_before: float = 0
    hours_after: float = 0


REMIND_JOB = "notices.remind"  # notices/tasks.py


def _schedule_reminders(
    unit: Unit, notice: Notice, reminders: Reminders | None, now: datetime
) -> None:
    if reminders is None:
        return
    payload = {"notice_id": notice.id, "due_at": notice.due_at.isoformat()}
    for hours, sign in ((reminders.hours_before, -1), (reminders.hours_after, 1)):
        run_at = notice.due_at + sign * timedelta(hours=hours)
        if hours > 0 and run_at > now:
            enqueue(unit, REMIND_JOB, payload, run_at=run_at)


def _assign_all(unit: Unit, notice: Notice, user_ids: list[int], reason: str) -> None:
    due, now = notice.due_at.isoformat(), utcnow().isoformat()
    for user_id in user_ids:
        unit.emit(NoticeAssigned(user_id, notice.id, notice.title, due, reason, now))


async def publish(
    unit: Unit,
    author: User,
    new: NoticeIn,
    *,
    client_ip: str,
    reminders: Reminders | None = None,
) -> tuple[Notice, int]:
    """A new notice, its first revision and quiz, and its audience as it is now. Returns the
    notice and how many people it reached."""
    now = utcnow()
    audience = _audience_of(new.audience)
    within = await _check_audience(unit, author, audience)
    effective_at = new.effective_at or now
    _check_dates(effective_at, new.due_at, now)
    await attachments.check(unit.session, author.id, None, new.attachment_ids)
    html = render_body(new.body)
    notice = Notice(
        title=" ".join(new.title.split()),
        body=new.body,
        body_html=html,
        author_id=author.id,
        created_at=now,
        effective_at=effective_at,
        due_at=new.due_at,
        revision=1,
        ack_revision=1,
        pass_mark=new.quiz.pass_mark if new.quiz else None,
        audience=audience,
    )
    if not notice.title:
        raise UserError(N_("A notice needs a title."))
    unit.session.add(notice)
    await unit.session.flush()
    unit.session.add(
        NoticeRevision(
            notice_id=notice.id,
            number=1,
            body=new.body,
            body_html=html,
            changes="",
            requires_ack=True,
            pass_mark=notice.pass_mark,
            author_id=author.id,
            created_at=now,
        )
    )
    unit.session.add_all(_questions(new.quiz, notice.id, 1))
    await unit.session.flush()
    await attachments.link(unit.session, notice.id, 1, new.attachment_ids)
    await queries.add_recipients(
        unit.session, notice.id, audience, within_branch=within, exclude_user=author.id, at=now
    )
    reached = await queries.recipient_ids(unit.session, notice.id)
    if not reached:
        raise UserError(NOBODY)
    await index_notice(unit.session, notice)
    record(
        unit,
        "notice.published",
        actor_id=author.id,
        target=f"notice:{notice.id}",
        client_ip=client_ip,
        title=notice.title,
        audience=audience,
        audience_size=len(reached),
        due_at=notice.due_at.isoformat(),
        quiz_questions=len(new.quiz.questions) if new.quiz else 0,
        attachments=list(new.attachment_ids),
    )
    _assign_all(unit, notice, reached, "published")
    _schedule_reminders(unit, notice, reminders, now)
    return notice, len(reached)


def may_revise(user: User, notice: Notice) -> bool:
    """Its author (still a publisher) or an administrator: the API, the revise page
    (``drafts``) and the pages' "Revise" links ask the same."""
    if not policy.publishes_notices(user.role):
        return False
    return notice.author_id == user.id or user.role == Role.admin


async def revise(
    unit: Unit,
    actor: User,
    notice_id: int,
    change: RevisionIn,
    *,
    client_ip: str,
    reminders: Reminders | None = None,
) -> tuple[Notice, int]:
    """A new revision (new body and quiz). Asking for acknowledgement again re-opens every
    row and adds who the audience definition names by now. Returns the notice and the
    audience size."""
    notice = await _find(unit, notice_id)
    if not may_revise(actor, notice):
        raise Forbidden(REVISES_OWN)
    now = utcnow()
    due_at = change.due_at or notice.due_at
    if change.due_at is not None:
        _check_dates(notice.effective_at, due_at, now)
    await attachments.check(unit.session, actor.id, notice.id, change.attachment_ids)
    number = notice.revision + 1
    html = render_body(change.body)
    notice.body, notice.body_html, notice.revision, notice.due_at = (
        change.body,
        html,
        number,
        due_at,
    )
    notice.pass_mark = change.quiz.pass_mark if change.quiz else None
    unit.session.add(
        NoticeRevision(
            notice_id=notice.id,
            number=number,
            body=change.body,
            body_html=html,
            changes=change.changes.strip(),
            requires_ack=change.requires_ack,
            pass_mark=notice.pass_mark,
            author_id=actor.id,
            created_at=now,
        )
    )
    unit.session.add_all(_questions(change.quiz, notice.id, number))
    await unit.session.flush()
    await attachments.link(unit.session, notice.id, number, change.attachment_ids)
    if change.requires_ack:
        notice.ack_revision = number
        await queries.reopen_all(unit.session, notice.id)
        author = await unit.session.get(User, notice.author_id)
        within = None
        if author is not None and not policy.oversees_all_notices(author.role):
            within = author.branch_id
        await queries.add_recipients(
            unit.session,
            notice.id,
            notice.audience,
            within_branch=within,
            exclude_user=notice.author_id,
            at=now,
        )
    await unit.session.flush()
    await index_notice(unit.session, notice)
    reached = await queries.recipient_ids(unit.session, notice.id)
    record(
        unit,
        "notice.revised",
        actor_id=actor.id,
        target=f"notice:{notice.id}",
        client_ip=client_ip,
        revision=number,
        changes=change.changes.strip(),
        requires_ack=change.requires_ack,
        audience_size=len(reached),
        attachments=list(change.attachment_ids),
    )
    if change.requires_ack:
        _assign_all(unit, notice, reached, "revised")
    if change.due_at is not None:
        _schedule_reminders(unit, notice, reminders, now)
    return notice, len(reached)


async def archive(unit: Unit, actor: User, notice_id: int, *, client_ip: str) -> Notice:
    """Take a notice out of use: it leaves every list and search (``documents``); its
    record stays (audience, acknowledgements, attempts, the audit log)."""
    notice = await _find(unit, notice_id)
    if not may_revise(actor, notice):
        raise Forbidden(ARCHIVES_OWN)
    notice.archived = True
    await unindex_notice(unit.session, notice.id)
    record(
        unit,
        "notice.archived",
        actor_id=actor.id,
        target=f"notice:{notice.id}",
        client_ip=client_ip,
        title=notice.title,
    )
    return notice


async def _find(unit: Unit, notice_id: int) -> Notice:
    notice = await queries.find_notice(unit.session, notice_id)
    if notice is None or notice.archived:
        raise NotFound(NO_SUCH_NOTICE)
    return notice


async def acknowledge(
    unit: Unit, user: User, notice_id: int, answers: list[int] | None, *, client_ip: str
) -> AcknowledgementOut:
    """ "I have read and understood", with the quiz's answers where there is one. A quiz
    attempt is recorded passed or not; the notice is done once acknowledged (and passed)."""
    notice = await _find(unit, notice_id)
    row = await queries.find_recipient(unit.session, notice.id, user.id, for_update=True)
    if row is None:
        raise Forbidden(NOT_YOURS)
    if row.completed_at is not None:
        raise UserError(ALREADY_DONE, status_code=409)
    now = utcnow()
    questions = await queries.questions_of(unit.session, notice.id, notice.revision)
    out = AcknowledgementOut(status="pending", passed=True, score=None, attempts=row.attempts)
    if questions:
        out = _mark(questions, answers or [], notice.pass_mark or 100)
        row.attempts += 1
        row.last_score = out.score
        out.attempts = row.attempts
        unit.session.add(
            NoticeAttempt(
                notice_id=notice.id,
                user_id=user.id,
                revision=notice.revision,
                answers=list(answers or []),
                score=out.score,
                passed=out.passed,
                at=now,
                client_ip=client_ip,
            )
        )
    if row.acknowledged_at is None:
        row.acknowledged_at = now
    if out.passed:
        row.completed_at = now
        unit.session.add(
            NoticeAcknowledgement(
                notice_id=notice.id,
                user_id=user.id,
                revision=notice.revision,
                at=now,
                client_ip=client_ip,
            )
        )
        record(
            unit,
            "notice.acknowledged",
            actor_id=user.id,
            target=f"notice:{notice.id}",
            client_ip=client_ip,
            revision=notice.revision,
            score=out.score,
            attempts=row.attempts,
        )
        unit.emit(NoticeCompleted(user.id, notice.id))
    out.status = _status(row, notice, now) or "pending"
    return out


def _mark(
    questions: list[NoticeQuestion], answers: list[int], pass_mark: int
) -> AcknowledgementOut:
    if len(answers) != len(questions):
        raise UserError(ANSWER_EVERY_QUESTION, count=len(questions))
    wrong = [
        WrongAnswerOut(
            question_id=question.id,
            position=question.position,
            chosen=answer if 0 <= answer < len(question.options) else None,
            explanation=question.explanation,
        )
        for question, answer in zip(questions, answers, strict=True)
        if answer != question.correct
    ]
    correct = len(questions) - len(wrong)
    score = round(100 * correct / len(questions))
    return AcknowledgementOut(
        status="pending",
        passed=score >= pass_mark,
        score=score,
        correct=correct,
        total=len(questions),
        pass_mark=pass_mark,
        wrong=wrong,
        attempts=0,
    )


def _summary(
    notice: Notice,
    author: str,
    row: NoticeRecipient | None,
    now: datetime,
    shown: list[AttachmentOut] | None = None,
) -> dict:
    return {
        "id": notice.id,
        "title": notice.title,
        "author": author,
        "created_at": notice.created_at,
        "effective_at": notice.effective_at,
        "due_at": notice.due_at,
        "revision": notice.revision,
        "has_quiz": notice.pass_mark is not None,
        "status": _status(row, notice, now),
        "attempts": row.attempts if row else 0,
        "last_score": row.last_score if row else None,
        "attachments": shown or [],
    }


async def my_notices(unit: Unit, user: User, *, open_only: bool) -> list[NoticeSummary]:
    now = utcnow()
    rows = await queries.list_for_user(unit.session, user.id, open_only=open_only)
    shown = await attachments.of_current(unit.session, [notice.id for notice, _, _ in rows])
    return [
        NoticeSummary(**_summary(notice, author, row, now, shown.get(notice.id)))
        for notice, row, author in rows
    ]


async def published_notices(unit: Unit, user: User) -> list[NoticeSummary]:
    """What a publisher oversees: every notice for trainers and administrators; a
    manager's own and those reaching their branch."""
    if not policy.publishes_notices(user.role):
        return []
    now = utcnow()
    if policy.oversees_all_notices(user.role):
        rows = await queries.list_published(unit.session, author_id=None, branch_id=None)
    else:
        rows = await queries.list_published(
            unit.session, author_id=user.id, branch_id=user.branch_id
        )
    shown = await attachments.of_current(unit.session, [notice.id for notice, _ in rows])
    return [
        NoticeSummary(**_summary(notice, author, None, now, shown.get(notice.id)))
        for notice, author in rows
    ]


async def oversight_branch(unit: Unit, user: User, notice: Notice) -> int | None:
    """The branch whose compliance ``user`` sees (None: all); Forbidden if none."""
    if notice.author_id == user.id and policy.publishes_notices(user.role):
        return None if policy.oversees_all_notices(user.role) else user.branch_id
    if policy.oversees_all_notices(user.role):
        return None
    if user.role == Role.manager:
        return user.branch_id
    raise Forbidden(OVERSEES_REFUSED)


async def read_notice(unit: Unit, user: User, notice_id: int) -> NoticeOut:
    """A notice as its reader sees it: body and quiz without the right answers."""
    notice = await _find(unit, notice_id)
    row = await queries.find_recipient(unit.session, notice.id, user.id)
    can_manage = await _oversees(unit, user, notice)
    if row is None and not can_manage:
        raise NotFound(NO_SUCH_NOTICE)
    author = await unit.session.get(User, notice.author_id)
    questions = await queries.questions_of(unit.session, notice.id, notice.revision)
    revision = await queries.find_revision(unit.session, notice.id, notice.revision)
    shown = await attachments.of_revision(unit.session, notice.id, notice.revision)
    return NoticeOut(
        **_summary(notice, author.display_name if author else "", row, utcnow(), shown),
        body=notice.body,
        body_html=notice.body_html,
        pass_mark=notice.pass_mark,
        questions=[
            QuestionOut(
                id=q.id, position=q.position, kind=q.kind, prompt=q.prompt, options=q.options
            )
            for q in questions
        ],
        changes=revision.changes if revision else "",
        audience=AudienceIn.model_validate(notice.audience),
        can_manage=can_manage,
    )


async def _oversees(unit: Unit, user: User, notice: Notice) -> bool:
    """Whether ``user`` sees this notice's compliance: a manager only when it is theirs or
    reaches their branch."""
    try:
        branch = await oversight_branch(unit, user, notice)
    except Forbidden:
        return False
    if branch is None or notice.author_id == user.id:
        return True
    return await queries.has_recipients_in(unit.session, notice.id, branch)


async def reads_attachment(unit: Unit, viewer: User, upload_id: int) -> bool:
    """Whether ``viewer`` may download an upload a notice shows (a rule of
    ``uploads.access.Readers``): its audience, the current revision's; its author and who
    oversees it (``_oversees``), every revision's. None of an archived notice's."""
    for notice_id, revision in await attachments.notices_showing(unit.session, upload_id):
        notice = await queries.find_notice(unit.session, notice_id)
        if notice is None or notice.archived:
            continue
        if notice.author_id == viewer.id or await _oversees(unit, viewer, notice):
            return True
        current = revision == notice.revision
        if current and await queries.find_recipient(unit.session, notice.id, viewer.id):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Oversight:
    notice: Notice
    branch_id: int | None


async def oversee(unit: Unit, user: User, notice_id: int) -> Oversight:
    notice = await _find(unit, notice_id)
    branch = await oversight_branch(unit, user, notice)
    if not await _oversees(unit, user, notice):  # a manager's: theirs or reaching their branch
        raise Forbidden(OVERSEES_REFUSED)
    return Oversight(notice, branch)


async def compliance(
    unit: Unit, user: User, notice_id: int, *, missing_limit: int = DEFAULT_MISSING
) -> ComplianceOut:
    """Per branch (as each person's branch was in the audience): how many must read it,
    have acknowledged, are done, are overdue; and who is not done yet."""
    seen = await oversee(unit, user, notice_id)
    notice = seen.notice
    overdue = utcnow() > notice.due_at
    rows = await queries.compliance_by_branch(unit.session, notice.id, branch_id=seen.branch_id)
    missing = []
    if missing_limit:
        missing = await queries.missing_people(
            unit.session, notice.id, branch_id=seen.branch_id, limit=missing_limit
        )
    return ComplianceOut(
        notice_id=notice.id,
        title=notice.title,
        due_at=notice.due_at,
        has_quiz=notice.pass_mark is not None,
        branches=[
            BranchCompliance(
                branch_id=row.branch_id,
                branch=row.name,
                audience=row.audience,
                acknowledged=row.acknowledged,
                passed=row.done,
                overdue=row.audience - row.done if overdue else 0,
            )
            for row in rows
        ],
        missing_count=sum(row.audience - row.done for row in rows),
        missing=[
            MissingPerson(
                user_id=row.user_id,
                name=row.display_name,
                username=row.username,
                branch_id=row.branch_id,
                overdue=overdue,
                attempts=row.attempts,
            )
            for row in missing
        ],
    )


async def remind(unit: Unit, actor: User, notice_id: int, *, client_ip: str) -> int:
    """Everyone overdue (in a manager's own branch, for a manager) gets the notice again:
    it is still in their inbox, and their tabs hear of it at once. How many were reminded."""
    seen = await oversee(unit, actor, notice_id)
    if utcnow() <= seen.notice.due_at:
        return 0
    return await _remind(unit, seen.notice, seen.branch_id, actor.id, client_ip)


async def _remind(
    unit: Unit, notice: Notice, branch_id: int | None, actor_id: int | None, client_ip: str
) -> int:
    reminded = await queries.remind_open(unit.session, notice.id, branch_id=branch_id, at=utcnow())
    if reminded:
        _assign_all(unit, notice, reminded, "reminder")
    record(
        unit,
        "notice.reminded",
        actor_id=actor_id,
        target=f"notice:{notice.id}",
        client_ip=client_ip,
        branch_id=branch_id,
        reminded=len(reminded),
    )
    return len(reminded)


async def remind_automatically(unit: Unit, notice_id: int, due_at: str) -> None:
    """A reminder job: everyone not done yet, if the notice still has that due date."""
    notice = await queries.find_notice(unit.session, notice_id)
    if notice is None or notice.archived or notice.due_at.isoformat() != due_at:
        return
    await _remind(unit, notice, None, None, "")


async def export_rows(unit: Unit, actor: User, notice_id: int) -> tuple[Notice, list[list]]:
    """A notice's compliance record, one row per person in the audience (a manager's branch
    only, for a manager): who, branch, role, added, answered, done, address, score,
    attempts, done or not. Audited as a record export."""
    seen = await oversee(unit, actor, notice_id)
    rows = await queries.export_rows(unit.session, seen.notice, branch_id=seen.branch_id)
    return seen.notice, [list(row) for row in rows]
