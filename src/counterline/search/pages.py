"""The search page: a server-rendered form (the viewer's rooms and the branches as its
choices); static/js/search.js reads the query from the page's address, asks
GET /api/v1/search and shows the results, so a search is a link and back/forward work.
The notices and FAQ entries the address's words find are rendered with the page (and
search.js shows those of each new search, from the API's ``documents``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.accounts import views as account_views
from counterline.accounts.guards import Identified
from counterline.accounts.models import User
from counterline.accounts.policy import edits_search_terms, exports_record
from counterline.branches.queries import list_branches
from counterline.db import Unit
from counterline.deps import ServicesDep
from counterline.errors import UserError
from counterline.i18n import current_language, gettext
from counterline.rooms import queries as room_queries
from counterline.rooms.conversations import rooms_out
from counterline.rooms.models import RoomKind
from counterline.search import actions, documents
from counterline.search.actions import SearchQuery
from counterline.web.client_strings import client_strings
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_QUERY = 500  # as GET /api/v1/search takes it
# The address's parameters that filter messages (search.js's FILTERS).
FILTERS = ("room", "author", "branch", "after", "before", "has", "mentions_me", "from_me")


def search_strings() -> dict[str, str]:
    """What search.js says, besides the shared client strings."""
    return {
        "search_loading": gettext("Searching…"),
        "search_count": gettext("Messages found: %(count)s"),
        "search_count_more": gettext("Messages shown: %(count)s, more below"),
        "search_more_loaded": gettext("%(count)s more shown."),
        "search_empty": gettext("Nothing found for “%(query)s”."),
        "search_empty_filters": gettext("No message matches these filters."),
        "search_attachments": gettext("Attachments"),
        "search_picture": gettext("Picture"),
        "search_file": gettext("File"),
        "search_filters_on": gettext("%(count)s filters on"),
    }


@router.get("/search")
async def search_page(request: Request, identity: Identified, services: ServicesDep) -> Response:
    """Find messages in the viewer's rooms by words and filters (query in the address).
    The notices and FAQ entries with the address's words are on the page at once."""
    user = identity.user
    async with services.reading() as unit:
        me = await account_views.describe(unit, user, services.presence)
        rooms = await rooms_out(
            unit, await room_queries.list_rooms_of(unit.session, user.id), user.id
        )
        branches = await list_branches(unit.session)
        hits = await _document_hits(unit, user, request, services)
    boot = {
        "me": me.model_dump(mode="json"),
        "csrf_token": identity.csrf_token,
        "time_zone": services.site.time_zone,
        "language": current_language.get(),
        # Managers and administrators export what they found (GET /api/v1/search/export).
        "exports": exports_record(user.role),
        "strings": {**client_strings(), **search_strings()},
        # The heading of each kind of document a search lists (search.documents).
        "document_labels": _labels(),
    }
    return render(
        request,
        "search/search.html",
        {
            "identity": identity,
            "me": me,
            "rooms": [room for room in rooms if room.kind != RoomKind.conversation],
            "conversations": [room for room in rooms if room.kind == RoomKind.conversation],
            "branches": branches,
            "edits_terms": edits_search_terms(user.role),
            "boot_json": encode_for_page(boot),
            "document_sections": _sections(hits),
        },
    )


def _labels() -> dict[str, str]:
    return {source.kind: gettext(source.label) for source in documents.sources()}


async def _document_hits(
    unit: Unit, user: User, request: Request, services: ServicesDep
) -> list[dict[str, Any]]:
    """The documents of the address's words (none with a filter: they are about messages;
    none for a query that cannot be read: search.js says why)."""
    params = request.query_params
    q = params.get("q", "")
    if not q.strip() or len(q) > MAX_QUERY or any(params.get(name) for name in FILTERS):
        return []
    try:
        return await actions.document_hits(unit, user, SearchQuery(zone=services.site.zone, q=q))
    except UserError:
        return []


def _sections(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hits by kind, in the order the kinds were registered, each with its heading."""
    labels = _labels()
    sections: dict[str, dict[str, Any]] = {}
    for hit in hits:
        kind = hit["kind"]
        section = sections.setdefault(
            kind, {"kind": kind, "label": labels.get(kind, kind), "hits": []}
        )
        section["hits"].append(hit)
    return list(sections.values())
