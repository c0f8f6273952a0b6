"""Questions and the FAQ over HTTP, under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from counterline.accounts.actions import Identity
from counterline.accounts.guards import Identified, role_guard
from counterline.accounts.policy import CURATES_FAQ
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ClientIp, ServicesDep
from counterline.faq import actions
from counterline.faq.models import MAX_TOPIC_LENGTH
from counterline.faq.schemas import (
    AnswerIn,
    FaqEntryIn,
    FaqEntryOut,
    FaqList,
    FaqSuggestionList,
    QuestionList,
    QuestionOut,
)
from counterline.ids import Id
from counterline.responses import json_of

router = APIRouter(tags=["faq"])
Curator = Annotated[Identity, Depends(role_guard(CURATES_FAQ, actions.CURATORS_ONLY))]


@router.get(
    "/rooms/{room_id}/questions",
    response_model=QuestionList,
    responses=error_responses(401, 403, 404, 422),
)
async def list_questions(room_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """The room's messages marked as questions, open or answered (members only)."""
    async with services.reading() as unit:
        out = await actions.room_questions(unit, identity.user, room_id)
    return json_of(out)


@router.post(
    "/messages/{message_id}/question",
    response_model=QuestionOut,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def mark_question(message_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """Mark a message as a question: your own, or anyone's for trainers and administrators.
    The room's open tabs show the mark at once (`question.changed`)."""
    async with services.transaction() as unit:
        out = await actions.mark_question(unit, identity.user, message_id)
    return json_of(out)


@router.delete(
    "/messages/{message_id}/question",
    status_code=204,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def unmark_question(message_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """No question any more (an FAQ entry made of it stays)."""
    async with services.transaction() as unit:
        await actions.unmark_question(unit, identity.user, message_id)
    return Response(status_code=204)


@router.post(
    "/messages/{message_id}/question/answer",
    status_code=201,
    response_model=FaqEntryOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def accept_answer(
    message_id: Id, answer: AnswerIn, identity: Curator, services: ServicesDep, ip: ClientIp
) -> Response:
    """Accept another message of the room as the answer (trainers and administrators): the
    pair becomes an FAQ entry for every branch, or replaces the answer of the entry the
    question already has."""
    async with services.transaction() as unit:
        out = await actions.accept_answer(
            unit, identity.user, message_id, answer.answer_id, answer.topic, client_ip=ip
        )
    return json_of(out, 201)


@router.get("/faq", response_model=FaqList, responses=error_responses(401, 403, 422))
async def list_faq(
    identity: Identified,
    services: ServicesDep,
    q: Annotated[
        str, Query(max_length=200, description="Words to find (Chinese segmented, codes whole).")
    ] = "",
    topic: Annotated[str | None, Query(max_length=MAX_TOPIC_LENGTH)] = None,
) -> Response:
    """The FAQ: every entry by topic, or those `q` finds, best match first."""
    async with services.reading() as unit:
        out = await actions.list_entries(unit, query=q, topic=topic)
    return json_of(out)


@router.get(
    "/faq/suggestions", response_model=FaqSuggestionList, responses=error_responses(401, 403, 422)
)
async def suggest_faq(
    identity: Identified,
    services: ServicesDep,
    text: Annotated[str, Query(max_length=1000, description="What is being typed.")] = "",
) -> Response:
    """FAQ entries that look like the question being typed (at most 3, most alike first):
    the composer offers them before the question is posted."""
    async with services.reading() as unit:
        suggestions = await actions.suggest(unit, text)
    return json_of(FaqSuggestionList(suggestions=suggestions))


@router.get(
    "/faq/{entry_id}", response_model=FaqEntryOut, responses=error_responses(401, 403, 404, 422)
)
async def read_faq_entry(entry_id: Id, identity: Identified, services: ServicesDep) -> Response:
    async with services.reading() as unit:
        out = await actions.read_entry(unit, entry_id)
    return json_of(out)


@router.post(
    "/faq",
    status_code=201,
    response_model=FaqEntryOut,
    responses=error_responses(*BODY_ERRORS, 401, 403),
)
async def write_faq_entry(
    new: FaqEntryIn, identity: Curator, services: ServicesDep, ip: ClientIp
) -> Response:
    """Write an entry directly (trainers and administrators)."""
    async with services.transaction() as unit:
        out = await actions.write_entry(unit, identity.user, new, client_ip=ip)
    return json_of(out, 201)


@router.put(
    "/faq/{entry_id}",
    response_model=FaqEntryOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def edit_faq_entry(
    entry_id: Id, change: FaqEntryIn, identity: Curator, services: ServicesDep, ip: ClientIp
) -> Response:
    """Replace an entry's topic, question and answer (trainers and administrators); the
    audit log keeps the text before."""
    async with services.transaction() as unit:
        out = await actions.edit_entry(unit, identity.user, entry_id, change, client_ip=ip)
    return json_of(out)


@router.delete("/faq/{entry_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_faq_entry(
    entry_id: Id, identity: Curator, services: ServicesDep, ip: ClientIp
) -> Response:
    """Remove an entry (its question, if any, is open again); the audit log keeps its text."""
    async with services.transaction() as unit:
        await actions.delete_entry(unit, identity.user, entry_id, client_ip=ip)
    return Response(status_code=204)
