"""The "API tokens" page (/account/tokens): make a token with its scopes and expiry (its
secret shown once, with a copy button), see one's tokens with when each was last used,
revoke one. Plain forms; static/js/tokens.js only copies the secret."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from counterline.accounts import actions as accounts
from counterline.accounts import queries, views
from counterline.accounts.guards import Identified
from counterline.accounts.policy import TokenScope, scopes_of_role
from counterline.deps import ClientIp, ServicesDep, check_form_token
from counterline.errors import UserError
from counterline.i18n import N_
from counterline.ids import Id
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
EXPIRY_CHOICES = (30, 90, 365)
NO_STORE = {"Cache-Control": "no-store"}


async def _page(
    request: Request,
    identity: Any,
    services: Any,
    *,
    created: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    async with services.reading() as unit:
        me = await views.describe(unit, identity.user, services.presence)
        tokens = await queries.list_tokens(unit.session, identity.user.id)
    allowed = scopes_of_role(identity.user.role)
    return render(
        request,
        "accounts/tokens.html",
        {
            "identity": identity,
            "me": me,
            "tokens": [{**row._asdict(), "scopes": row.scopes.split()} for row in tokens],
            "scopes": [scope.value for scope in TokenScope if scope in allowed],
            "expiry_choices": EXPIRY_CHOICES,
            "created": created,
            "error": error,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@router.get("/account/tokens")
async def tokens_page(request: Request, identity: Identified, services: ServicesDep) -> Response:
    return await _page(request, identity, services)


@router.post("/account/tokens")
async def create_token_submit(
    request: Request,
    identity: Identified,
    services: ServicesDep,
    ip: ClientIp,
    label: Annotated[str, Form(max_length=1000)] = "",
    scope: Annotated[list[str], Form(max_length=3)] = [],  # noqa: B006 (FastAPI copies it)
    expires_in_days: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    try:
        days = int(expires_in_days) if expires_in_days.strip() else None
    except ValueError:
        days = -1  # refused below, with the message about expiry
    try:
        if not scope:
            raise UserError(N_("Choose at least one scope for the token."))
        async with services.transaction() as unit:
            secret, token = await accounts.create_api_token(
                unit,
                identity.user,
                label=label,
                scopes=scope,
                expires_in_days=days,
                actor_id=identity.user.id,
                client_ip=ip,
            )
    except UserError as error:
        return await _page(
            request, identity, services, error=error.translated(), status_code=error.status_code
        )
    created = {"id": token.id, "label": token.label, "secret": secret}
    return await _page(request, identity, services, created=created)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token_submit(
    request: Request,
    token_id: Id,
    identity: Identified,
    services: ServicesDep,
    ip: ClientIp,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    async with services.transaction() as unit:
        await accounts.revoke_api_token(
            unit, token_id, owner_id=identity.user.id, actor_id=identity.user.id, client_ip=ip
        )
    services.identities.forget_user(identity.user.id)
    return RedirectResponse("/account/tokens", status_code=303)
