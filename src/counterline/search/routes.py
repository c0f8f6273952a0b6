"""Search over the JSON API (docs/api.md, Search): messages, and the custom dictionary."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from counterline.accounts import policy
from counterline.accounts.actions import Identity
from counterline.accounts.guards import Identified, role_guard
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ClientIp, DayAfter, DayBefore, ServicesDep
from counterline.ids import Id
from counterline.responses import json_of
from counterline.search import actions
from counterline.search.actions import DEFAULT_LIMIT, MAX_LIMIT, SearchQuery
from counterline.search.schemas import SearchPage, SearchTermIn, SearchTermList, SearchTermOut

router = APIRouter(tags=["search"])

TermEditor = Annotated[
    Identity, Depends(role_guard(policy.EDITS_SEARCH_TERMS, actions.ONLY_EDITORS))
]


def search_query(
    services: ServicesDep,
    q: Annotated[
        str,
        Query(
            max_length=500,
            description='Words (all must match; Chinese needs no spaces), "exact phrases" '
            "and filters: `from:<username|name|me>`, `branch:<name>`, `in:<room name>`, "
            "`after:YYYY-MM-DD`, `before:YYYY-MM-DD`, `has:picture`, `has:file`, `mentions:me`.",
        ),
    ] = "",
    room: Annotated[Id | None, Query(description="Only this room or conversation.")] = None,
    author: Annotated[
        str | None, Query(max_length=100, description="Only by this username (or name).")
    ] = None,
    branch: Annotated[
        Id | None, Query(description="Only by authors of this branch (when they posted).")
    ] = None,
    after: DayAfter = None,
    before: DayBefore = None,
    has: Annotated[
        str | None,
        Query(max_length=16, description="`picture` or `file`: with such an attachment."),
    ] = None,
    mentions_me: Annotated[bool, Query(description="Only messages addressed to you.")] = False,
    from_me: Annotated[bool, Query(description="Only your own messages.")] = False,
    order: Annotated[
        Literal["newest", "relevance"],
        Query(description="Newest first, or the best of the newest 500 matches first."),
    ] = "newest",
    cursor: Annotated[
        str | None, Query(max_length=64, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> SearchQuery:
    """A search from the query parameters (shared with the search export)."""
    return SearchQuery(
        zone=services.site.zone,
        q=q,
        room=room,
        author=author or None,
        branch=branch,
        after=after or None,
        before=before or None,
        has=has or None,
        mentions_me=mentions_me,
        from_me=from_me,
        order=order,
        cursor=cursor or None,
        limit=limit,
    )


SearchParameters = Annotated[SearchQuery, Depends(search_query)]


@router.get("/search", response_model=SearchPage, responses=error_responses(400, 401, 403, 422))
async def search(query: SearchParameters, identity: Identified, services: ServicesDep) -> Response:
    """Messages you may read (rooms and conversations you are a member of; never deleted
    ones) matching the words and filters, newest first (or by relevance), a page at a
    time. Filters in `q` and in parameters combine: each narrows. A query that cannot be
    read (a bad day, an unknown `has:`, a name that is nobody's) is a 400 saying why."""
    async with services.reading() as unit:
        page = await actions.search(unit, identity.user, query)
    return json_of(page)


@router.get("/search/terms", response_model=SearchTermList, responses=error_responses(401, 403))
async def list_terms(identity: TermEditor, services: ServicesDep) -> Response:
    """The custom dictionary: business terms kept whole when Chinese text is segmented
    (trainers and administrators)."""
    async with services.reading() as unit:
        terms = await actions.list_terms(unit)
    return json_of(terms)


@router.post(
    "/search/terms",
    status_code=201,
    response_model=SearchTermOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 409),
)
async def add_term(
    new: SearchTermIn, identity: TermEditor, services: ServicesDep, ip: ClientIp
) -> Response:
    """Add a business term (2 to 32 Chinese characters). New messages are indexed with it
    at once; run `counterline search reindex` for older ones (they are found by its
    characters meanwhile). Audited."""
    async with services.transaction() as unit:
        term = await actions.add_term(unit, identity.user, new.term, ip)
    async with services.reading() as unit:
        await actions.load_dictionary(unit)
    return json_of(term, 201)


@router.delete("/search/terms/{term_id}", status_code=204, responses=error_responses(401, 403, 404))
async def remove_term(
    term_id: Id, identity: TermEditor, services: ServicesDep, ip: ClientIp
) -> Response:
    """Remove a business term. Audited."""
    async with services.transaction() as unit:
        await actions.remove_term(unit, identity.user, term_id, ip)
    async with services.reading() as unit:
        await actions.load_dictionary(unit)
    return Response(status_code=204)
