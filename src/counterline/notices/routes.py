"""Notices over HTTP, under /api/v1/notices."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from counterline.accounts.actions import Identity
from counterline.accounts.guards import Identified, role_guard
from counterline.accounts.policy import PUBLISHES_NOTICES
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ClientIp, ServicesDep
from counterline.i18n import N_
from counterline.ids import Id
from counterline.notices import actions
from counterline.notices.queries import MAX_MISSING
from counterline.notices.schemas import (
    AcknowledgementIn,
    AcknowledgementOut,
    ComplianceOut,
    NoticeCreated,
    NoticeIn,
    NoticeList,
    NoticeOut,
    RemindersOut,
    RevisionIn,
    RevisionOut,
)
from counterline.responses import json_of

router = APIRouter(tags=["notices"])
FormatParameter = Annotated[
    Literal["csv", "xlsx"], Query(alias="format", description="`csv` (UTF-8 with BOM) or `xlsx`.")
]
Publisher = Annotated[
    Identity,
    Depends(
        role_guard(
            PUBLISHES_NOTICES, N_("Only trainers, managers and administrators publish notices.")
        )
    ),
]


@router.post(
    "/notices",
    status_code=201,
    response_model=NoticeCreated,
    responses=error_responses(*BODY_ERRORS, 401, 403),
)
async def publish_notice(
    new: NoticeIn, identity: Publisher, services: ServicesDep, ip: ClientIp
) -> Response:
    """Publish a notice (trainers and administrators to anyone; managers within their own
    branch). Its audience is fixed now: everyone the definition names, except the author,
    with their branch and role as they are. Each of them gets it at once (inbox, banner)."""
    async with services.transaction() as unit:
        notice, size = await actions.publish(
            unit, identity.user, new, client_ip=ip, reminders=_reminders(services)
        )
    return json_of(NoticeCreated(id=notice.id, audience_size=size), 201)


@router.get("/notices", response_model=NoticeList, responses=error_responses(401, 403, 422))
async def list_notices(
    identity: Identified,
    services: ServicesDep,
    open_only: Annotated[
        bool, Query(alias="open", description="Only those you still have to complete.")
    ] = False,
    published: Annotated[
        bool,
        Query(
            description="Instead: the notices you oversee (publishers): every notice for "
            "trainers and administrators, a manager's own and those reaching their branch."
        ),
    ] = False,
) -> Response:
    """Your notices with your status, newest first (at most 200)."""
    async with services.reading() as unit:
        if published:
            notices = await actions.published_notices(unit, identity.user)
        else:
            notices = await actions.my_notices(unit, identity.user, open_only=open_only)
    return json_of(NoticeList(notices=notices))


@router.get(
    "/notices/{notice_id}", response_model=NoticeOut, responses=error_responses(401, 403, 404, 422)
)
async def read_notice(notice_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """A notice: its body and its quiz's questions (without the right answers), and your
    status. For its audience and for who oversees it."""
    async with services.reading() as unit:
        notice = await actions.read_notice(unit, identity.user, notice_id)
    return json_of(notice)


@router.post(
    "/notices/{notice_id}/acknowledgement",
    response_model=AcknowledgementOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
async def acknowledge_notice(
    notice_id: Id,
    ack: AcknowledgementIn,
    identity: Identified,
    services: ServicesDep,
    ip: ClientIp,
) -> Response:
    """ "I have read and understood" (with `answers` when it has a quiz). Recorded with the
    time and your address. With a quiz, each attempt is recorded; the answer says whether
    you passed, your score and, for each wrong answer, its explanation; try again until you
    pass. 409 once you have completed it."""
    async with services.transaction() as unit:
        out = await actions.acknowledge(unit, identity.user, notice_id, ack.answers, client_ip=ip)
    return json_of(out)


@router.delete(
    "/notices/{notice_id}", status_code=204, responses=error_responses(401, 403, 404, 422)
)
async def archive_notice(
    notice_id: Id, identity: Publisher, services: ServicesDep, ip: ClientIp
) -> Response:
    """Archive a notice (its author or an administrator): it leaves every list, banner,
    inbox and search; its record stays (audience, acknowledgements, attempts, audit log)."""
    async with services.transaction() as unit:
        await actions.archive(unit, identity.user, notice_id, client_ip=ip)
    return Response(status_code=204)


@router.post(
    "/notices/{notice_id}/revisions",
    status_code=201,
    response_model=RevisionOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def revise_notice(
    notice_id: Id, change: RevisionIn, identity: Publisher, services: ServicesDep, ip: ClientIp
) -> Response:
    """A new revision (its author or an administrator): new body and quiz, what changed,
    and whether everyone must acknowledge again (then everyone's status is open again and
    people the audience names by now join it)."""
    async with services.transaction() as unit:
        notice, size = await actions.revise(
            unit, identity.user, notice_id, change, client_ip=ip, reminders=_reminders(services)
        )
    out = RevisionOut(
        id=notice.id, revision=notice.revision, requires_ack=change.requires_ack, audience_size=size
    )
    return json_of(out, 201)


@router.get(
    "/notices/{notice_id}/compliance",
    response_model=ComplianceOut,
    responses=error_responses(401, 403, 404, 422),
)
async def notice_compliance(
    notice_id: Id,
    identity: Publisher,
    services: ServicesDep,
    missing_limit: Annotated[
        int, Query(ge=0, le=MAX_MISSING, description="How many missing people to list.")
    ] = actions.DEFAULT_MISSING,
) -> Response:
    """Per branch (each person's branch when they joined the audience): the audience, how
    many acknowledged, passed (done) and are overdue, and who is not done yet. Managers see
    their own branch; trainers and administrators every branch."""
    async with services.reading() as unit:
        out = await actions.compliance(unit, identity.user, notice_id, missing_limit=missing_limit)
    return json_of(out)


def _reminders(services: ServicesDep) -> actions.Reminders:
    return actions.Reminders(
        services.settings.notice_remind_hours_before, services.settings.notice_remind_hours_after
    )


@router.post(
    "/notices/{notice_id}/reminders",
    response_model=RemindersOut,
    responses=error_responses(401, 403, 404, 422),
)
async def remind_overdue(
    notice_id: Id, identity: Publisher, services: ServicesDep, ip: ClientIp
) -> Response:
    """Remind everyone overdue (a manager: in their branch): the notice comes again to their
    open tabs, and stays in their inbox until done. 0 before the due date."""
    async with services.transaction() as unit:
        count = await actions.remind(unit, identity.user, notice_id, client_ip=ip)
    return json_of(RemindersOut(reminded=count))
