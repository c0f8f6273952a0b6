from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from counterline.accounts.guards import Identified
from counterline.api_errors import error_responses
from counterline.deps import ServicesDep
from counterline.errors import NotFound
from counterline.i18n import N_
from counterline.responses import json_of

router = APIRouter(tags=["messages"])


class LinkPreviewOut(BaseModel):
    url: str
    title: str | None


@router.get(
    "/link-preview",
    response_model=LinkPreviewOut,
    responses=error_responses(401, 404, 422),
)
async def link_preview(
    url: Annotated[str, Query(max_length=2000)],
    identity: Identified,
    services: ServicesDep,
) -> Response:
    """The title of an intranet page, for a link in a message. Only for the hosts the
    administrator listed in ``link_preview_hosts``; any other address is 404 and the
    server does not request it. ``title`` is null when the page has none or is down."""
    if not services.link_titles.hosts.allows(url):
        raise NotFound(N_("No preview for this address."))
    found = await services.link_titles.title_of(url)
    return json_of(LinkPreviewOut(url=found.url, title=found.title))
