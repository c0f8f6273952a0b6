"""The business-terms page (/search/terms): the custom dictionary as a table with an add form
and a remove button per term, for trainers and administrators. Plain forms that post back
here (CSRF token, then a redirect), so it works without JavaScript; the same actions as
/api/v1/search/terms."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from counterline.accounts import views as account_views
from counterline.accounts.actions import Identity
from counterline.deps import ClientIp, ServicesDep, check_form_token
from counterline.errors import UserError
from counterline.ids import Id
from counterline.search import actions
from counterline.search.routes import TermEditor
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = "/search/terms"


@router.get(PAGE)
async def terms_page(
    request: Request,
    identity: TermEditor,
    services: ServicesDep,
    added: Annotated[str, Query(max_length=64)] = "",
    removed: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The dictionary, with what the last change did (``added``/``removed`` in the address)."""
    return await _render(request, identity, services, added=added, removed=removed)


@router.post(PAGE)
async def add_term(
    request: Request,
    identity: TermEditor,
    services: ServicesDep,
    ip: ClientIp,
    term: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    try:
        async with services.transaction() as unit:
            added = await actions.add_term(unit, identity.user, term, ip)
    except UserError as refused:
        return await _render(
            request,
            identity,
            services,
            error=refused.translated(),
            typed=term,
            status_code=refused.status_code,
        )
    await _reload(services)
    return RedirectResponse(f"{PAGE}?added={quote(added.term)}", status_code=303)


@router.post(PAGE + "/{term_id}/remove")
async def remove_term(
    request: Request,
    term_id: Id,
    identity: TermEditor,
    services: ServicesDep,
    ip: ClientIp,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    async with services.transaction() as unit:
        removed = await actions.remove_term(unit, identity.user, term_id, ip)
    await _reload(services)
    return RedirectResponse(f"{PAGE}?removed={quote(removed)}", status_code=303)


async def _reload(services: ServicesDep) -> None:
    async with services.reading() as unit:
        await actions.load_dictionary(unit)


async def _render(
    request: Request,
    identity: Identity,
    services: ServicesDep,
    *,
    added: str = "",
    removed: str = "",
    error: str | None = None,
    typed: str = "",
    status_code: int = 200,
) -> Response:
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        terms = await actions.list_terms(unit)
    return render(
        request,
        "search/terms.html",
        {
            "identity": identity,
            "me": me,
            "terms": terms.terms,
            "added": added,
            "removed": removed,
            "error": error,
            "typed": typed,
        },
        status_code=status_code,
    )
