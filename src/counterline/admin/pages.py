"""The audit log page (/admin/audit): a server-rendered table with a GET filter form and
"older" links, so filtering and paging work without JavaScript. The chain is verified only
when asked (``check=1``): that reads every entry."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.admin import actions
from counterline.admin.actions import ACTION_LABELS, AuditQuery, action_label
from counterline.admin.console import console_context
from counterline.admin.routes import AuditParameters, AuditReader
from counterline.admin.schemas import AuditPage
from counterline.audit.verify import Broken
from counterline.deps import ServicesDep
from counterline.errors import UserError
from counterline.i18n import N_, gettext
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)

# What the page says about the first broken entry, by what `audit verify` found there.
BROKEN_CHAIN = {
    "changed": N_("Entry #%(id)s no longer matches its hash: it was changed in the database."),
    "inserted": N_("Entry #%(id)s was inserted directly in the database."),
    "missing": N_("Entries before #%(id)s are missing: they were deleted from the database."),
}


@router.get("/admin/audit")
async def audit_page(
    request: Request,
    query: AuditParameters,
    identity: AuditReader,
    services: ServicesDep,
    check: bool = False,
) -> Response:
    """The audit log, newest first, filtered by the form; with ``check``, the chain status."""
    error, page, chain = None, AuditPage(entries=[], next_before_id=None), None
    async with services.reading() as unit:
        context = await console_context(unit, identity, services, "audit")
        try:
            page = await actions.read_log(unit, identity.user, query)
        except UserError as refused:
            error = refused.translated()
        if check:
            chain = await actions.check_chain(unit, identity.user)
    return render(
        request,
        "admin/audit_log.html",
        {
            **context,
            "query": query,
            "page": page,
            "error": error,
            "chain": chain,
            "chain_broken": _broken_text(chain.broken) if chain is not None else None,
            "older_url": _older_url(query, page.next_before_id),
            "check_url": _page_url(query, check="1"),
            "known_actions": [(action, action_label(action)) for action in ACTION_LABELS],
        },
        status_code=400 if error else 200,
    )


def _broken_text(broken: Broken | None) -> str | None:
    if broken is None:
        return None
    return gettext(BROKEN_CHAIN[broken.problem], id=broken.entry_id)


def _older_url(query: AuditQuery, before_id: int | None) -> str | None:
    return _page_url(query, before_id=str(before_id)) if before_id is not None else None


def _page_url(query: AuditQuery, **extra: str) -> str:
    """This page with the same filters, plus ``extra``."""
    kept = {
        "action": query.action,
        "actor": query.actor,
        "target": query.target,
        "after": query.after,
        "before": query.before,
        "limit": str(query.limit) if query.limit != actions.DEFAULT_LIMIT else None,
    }
    parameters = {key: value for key, value in {**kept, **extra}.items() if value}
    return "/admin/audit" + (f"?{urlencode(parameters)}" if parameters else "")
