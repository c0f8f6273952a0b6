"""The audit log over the JSON API (docs/api.md, Audit log): administrators only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from counterline.accounts import policy
from counterline.accounts.actions import Identity
from counterline.accounts.guards import role_guard
from counterline.admin import actions
from counterline.admin.actions import DEFAULT_LIMIT, MAX_LIMIT, ONLY_ADMINS, AuditQuery
from counterline.admin.schemas import AuditPage
from counterline.api_errors import error_responses
from counterline.deps import DayAfter, DayBefore, ServicesDep
from counterline.ids import Id
from counterline.responses import json_of

router = APIRouter(tags=["audit"])

AuditReader = Annotated[Identity, Depends(role_guard(policy.VIEWS_AUDIT_LOG, ONLY_ADMINS))]


def audit_query(
    services: ServicesDep,
    action: Annotated[
        str | None,
        Query(
            max_length=64,
            description="This action and those under it: `login` gives `login.succeeded`, "
            "`login.failed` and `login.throttled`.",
        ),
    ] = None,
    actor: Annotated[
        str | None, Query(max_length=64, description="Only what this username did.")
    ] = None,
    target: Annotated[
        str | None, Query(max_length=128, description="Only this target, e.g. `user:5`.")
    ] = None,
    after: DayAfter = None,
    before: DayBefore = None,
    before_id: Annotated[
        Id | None, Query(description="Older than this entry: `next_before_id` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> AuditQuery:
    """The viewer's filters from the query parameters (shared with the page)."""
    return AuditQuery(
        zone=services.site.zone,
        action=action or None,
        actor=actor or None,
        target=target or None,
        after=after or None,
        before=before or None,
        before_id=before_id,
        limit=limit,
    )


AuditParameters = Annotated[AuditQuery, Depends(audit_query)]


@router.get("/audit", response_model=AuditPage, responses=error_responses(400, 401, 403, 422))
async def read_audit_log(
    query: AuditParameters, identity: AuditReader, services: ServicesDep
) -> Response:
    """The audit log, newest first, a page at a time: logins (succeeded, failed, slowed
    down) and logouts with their addresses, changes to users, roles, branches, tokens and
    rooms, edited and deleted messages, exports. Filters narrow; a day that cannot be read
    is a 400 saying why. Each entry carries its hash, chained to the one before
    (`counterline audit verify` checks the chain)."""
    async with services.reading() as unit:
        page = await actions.read_log(unit, identity.user, query)
    return json_of(page)
