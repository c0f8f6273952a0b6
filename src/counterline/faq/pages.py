"""The FAQ pages: /faq (every entry by topic, a search box, a topic filter, and for trainers
a form to write an entry) and /faq/{id} (the entry, the conversation it came from, and for
trainers the form to edit or delete it). Plain forms that post back here (CSRF token, then
a redirect), so they work without JavaScript; the same actions as /api/v1/faq."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from counterline.accounts import policy
from counterline.accounts import views as account_views
from counterline.accounts.actions import Identity
from counterline.accounts.guards import Identified
from counterline.deps import ClientIp, ServicesDep, check_form_token
from counterline.errors import UserError
from counterline.faq import actions
from counterline.faq.models import MAX_ANSWER_LENGTH, MAX_QUESTION_LENGTH, MAX_TOPIC_LENGTH
from counterline.faq.routes import Curator
from counterline.faq.schemas import FaqEntryIn, FaqEntryOut
from counterline.ids import Id
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
Topic = Annotated[str, Form(max_length=MAX_TOPIC_LENGTH * 4)]
QuestionText = Annotated[str, Form(max_length=MAX_QUESTION_LENGTH * 4)]
AnswerText = Annotated[str, Form(max_length=MAX_ANSWER_LENGTH * 2)]
CsrfToken = Annotated[str, Form(max_length=200)]
LIMITS = {"topic": MAX_TOPIC_LENGTH, "question": MAX_QUESTION_LENGTH, "answer": MAX_ANSWER_LENGTH}


def _entry_in(topic: str, question: str, answer: str) -> FaqEntryIn:
    """The form's fields as the API takes them; too long or empty: a UserError to show."""
    if not question.strip() or not answer.strip():
        raise UserError(actions.NEEDS_BOTH)
    if len(topic) > MAX_TOPIC_LENGTH or len(question) > MAX_QUESTION_LENGTH:
        raise UserError(actions.TOO_LONG)
    if len(answer) > MAX_ANSWER_LENGTH:
        raise UserError(actions.TOO_LONG)
    return FaqEntryIn(topic=topic, question=question, answer=answer)


@router.get("/faq")
async def faq_page(
    request: Request,
    identity: Identified,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=200)] = "",
    topic: Annotated[str | None, Query(max_length=MAX_TOPIC_LENGTH)] = None,
    deleted: Annotated[bool, Query()] = False,
) -> Response:
    return await _render_list(request, identity, services, query=q, topic=topic, deleted=deleted)


async def _render_list(
    request: Request,
    identity: Identity,
    services: ServicesDep,
    *,
    query: str = "",
    topic: str | None = None,
    deleted: bool = False,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        faq = await actions.list_entries(unit, query=query, topic=topic)
    groups: dict[str, list] = {}
    for entry in faq.entries:
        groups.setdefault(entry.topic, []).append(entry)
    return render(
        request,
        "faq/list.html",
        {
            "identity": identity,
            "me": me,
            "groups": groups,
            "topics": faq.topics,
            "query": query,
            "topic": topic,
            "deleted": deleted,
            "curates": policy.curates_faq(identity.user.role),
            "error": error,
            "typed": typed or {},
            "limits": LIMITS,
        },
        status_code=status_code,
    )


@dataclass(frozen=True, slots=True)
class EntryForm:
    topic: str
    question: str
    answer: str
    csrf_token: str

    def typed(self) -> dict[str, str]:
        return {"topic": self.topic, "question": self.question, "answer": self.answer}


def entry_form(
    topic: Topic = "",
    question: QuestionText = "",
    answer: AnswerText = "",
    csrf_token: CsrfToken = "",
) -> EntryForm:
    return EntryForm(topic, question, answer, csrf_token)


EntryFields = Annotated[EntryForm, Depends(entry_form)]
Save = Callable[[FaqEntryIn], Awaitable[FaqEntryOut]]
Show = Callable[[str, dict[str, str], int], Awaitable[Response]]


async def _saved_or_shown(
    request: Request, identity: Identity, form: EntryForm, save: Save, show: Show
) -> Response:
    """Save the entry and go to it; a refusal is shown next to the form, typing kept."""
    check_form_token(request, form.csrf_token, identity.csrf_token)
    try:
        entry = await save(_entry_in(form.topic, form.question, form.answer))
    except UserError as refused:
        if refused.status_code != UserError.status_code:
            raise  # not found, forbidden: the error page
        return await show(refused.translated(), form.typed(), refused.status_code)
    return RedirectResponse(f"{entry.url}?saved=1", status_code=303)


@router.post("/faq")
async def write_entry(
    request: Request, identity: Curator, services: ServicesDep, ip: ClientIp, form: EntryFields
) -> Response:
    async def save(new: FaqEntryIn) -> FaqEntryOut:
        async with services.transaction() as unit:
            return await actions.write_entry(unit, identity.user, new, client_ip=ip)

    async def show(error: str, typed: dict[str, str], status_code: int) -> Response:
        return await _render_list(
            request, identity, services, error=error, typed=typed, status_code=status_code
        )

    return await _saved_or_shown(request, identity, form, save, show)


@router.get("/faq/{entry_id}")
async def entry_page(
    request: Request,
    entry_id: Id,
    identity: Identified,
    services: ServicesDep,
    saved: Annotated[bool, Query()] = False,
) -> Response:
    return await _render_entry(request, identity, services, entry_id, saved=saved)


async def _render_entry(
    request: Request,
    identity: Identity,
    services: ServicesDep,
    entry_id: int,
    *,
    saved: bool = False,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        entry = await actions.read_entry(unit, entry_id)
    return render(
        request,
        "faq/entry.html",
        {
            "identity": identity,
            "me": me,
            "entry": entry,
            "saved": saved,
            "curates": policy.curates_faq(identity.user.role),
            "error": error,
            "typed": typed
            or {"topic": entry.topic, "question": entry.question, "answer": entry.answer},
            "limits": LIMITS,
        },
        status_code=status_code,
    )


@router.post("/faq/{entry_id}")
async def edit_entry(
    request: Request,
    entry_id: Id,
    identity: Curator,
    services: ServicesDep,
    ip: ClientIp,
    form: EntryFields,
) -> Response:
    async def save(change: FaqEntryIn) -> FaqEntryOut:
        async with services.transaction() as unit:
            return await actions.edit_entry(unit, identity.user, entry_id, change, client_ip=ip)

    async def show(error: str, typed: dict[str, str], status_code: int) -> Response:
        return await _render_entry(
            request,
            identity,
            services,
            entry_id,
            error=error,
            typed=typed,
            status_code=status_code,
        )

    return await _saved_or_shown(request, identity, form, save, show)


@router.post("/faq/{entry_id}/delete")
async def delete_entry(
    request: Request,
    entry_id: Id,
    identity: Curator,
    services: ServicesDep,
    ip: ClientIp,
    csrf_token: CsrfToken = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    async with services.transaction() as unit:
        await actions.delete_entry(unit, identity.user, entry_id, client_ip=ip)
    return RedirectResponse("/faq?deleted=1", status_code=303)
