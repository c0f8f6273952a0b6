from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from counterline.accounts import actions, queries, views
from counterline.accounts.guards import PUBLIC, Identified, LoggedIn
from counterline.accounts.schemas import (
    LoginIn,
    PasswordChangeIn,
    SessionOut,
    TokenCreated,
    TokenIn,
    TokenList,
    TokenOut,
    UserList,
)
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.conditional import conditional_response
from counterline.config import Settings
from counterline.deps import SESSION_COOKIE, ClientIp, ServicesDep
from counterline.ids import Id
from counterline.responses import json_of

router = APIRouter(tags=["accounts"])


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_absolute_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


@router.post(
    "/session", dependencies=[PUBLIC], responses=error_responses(*BODY_ERRORS, 401, 403, 429)
)
async def log_in(
    credentials: LoginIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    ip: ClientIp,
) -> SessionOut:
    """Log in with username and password; sets the session cookie."""
    old = request.cookies.get(SESSION_COOKIE)
    async with services.reading() as unit:
        verdict = await actions.check_password(unit, credentials.username, credentials.password, ip)
    async with services.transaction() as unit:
        result = await actions.log_in_replacing(
            unit, old, credentials.username, credentials.password, ip, verdict
        )
        if result.error is None:
            assert result.user is not None
            user_view = await views.describe(unit, result.user, services.presence)
    if result.error is not None:
        raise result.error
    assert result.session_token is not None and result.user is not None
    set_session_cookie(response, result.session_token, services.settings)
    return SessionOut(
        user=user_view,
        csrf_token=result.csrf_token,
        must_change_password=result.user.must_change_password,
    )


@router.get("/session", responses=error_responses(401))
async def current_session(identity: LoggedIn, services: ServicesDep) -> SessionOut:
    """Who is logged in, and the CSRF token for cookie-authenticated changes."""
    async with services.reading() as unit:
        user_view = await views.describe(unit, identity.user, services.presence)
    return SessionOut(
        user=user_view,
        csrf_token=identity.csrf_token,
        must_change_password=identity.user.must_change_password,
    )


@router.delete("/session", status_code=204, dependencies=[PUBLIC], responses=error_responses(403))
async def log_out(request: Request, services: ServicesDep, ip: ClientIp) -> Response:
    """Log out: the session is destroyed on the server and its tabs are disconnected."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with services.transaction() as unit:
            await actions.log_out(unit, token, ip)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.put("/session/password", status_code=204, responses=error_responses(*BODY_ERRORS, 401, 403))
async def change_password(
    change: PasswordChangeIn, identity: LoggedIn, services: ServicesDep, ip: ClientIp
) -> Response:
    """Change one's own password; other sessions of the user are logged out."""
    async with services.transaction() as unit:
        await actions.change_password(
            unit,
            await actions.reload(unit, identity),
            change.current_password,
            change.new_password,
            ip,
        )
    return Response(status_code=204)


@router.get("/users", response_model=UserList, responses=error_responses(401, 403))
async def list_users(request: Request, identity: Identified, services: ServicesDep) -> Response:
    """Every active user with branch, role, online status, last-seen time, and the pinyin
    and initials of the display name (what the mentions autocomplete matches). The room page
    asks for it on every load: the answer carries an `ETag`, and sent back in
    `If-None-Match` it is answered 304 with no body while the directory is unchanged."""
    body, etag = await views.cached_directory(
        services.directory, services.reading, services.presence
    )
    return conditional_response(request, body, "application/json", etag=etag)


@router.get("/account/tokens", responses=error_responses(401, 403))
async def list_tokens(identity: Identified, services: ServicesDep) -> TokenList:
    """Your API tokens (their secrets are shown only once, when made)."""
    async with services.reading() as unit:
        rows = await queries.list_tokens(unit.session, identity.user.id)
    return TokenList(tokens=[_token_out(row) for row in rows])


def _token_out(row: Any) -> TokenOut:
    return TokenOut(
        id=row.id,
        label=row.label,
        scopes=row.scopes.split(),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
    )


@router.post(
    "/account/tokens",
    status_code=201,
    response_model=TokenCreated,
    responses=error_responses(*BODY_ERRORS, 401, 403),
)
async def create_token(
    new: TokenIn, identity: Identified, services: ServicesDep, ip: ClientIp
) -> Response:
    """Make an API token for yourself, with the scopes it may use and an optional expiry.
    The answer holds the secret: shown only now, stored hashed. Made with a token, the new
    one holds no scope the calling token lacks."""
    within = actions.token_scopes(identity.token) if identity.token else None
    async with services.transaction() as unit:
        secret, token = await actions.create_api_token(
            unit,
            identity.user,
            label=new.label,
            scopes=None if new.scopes is None else [scope.value for scope in new.scopes],
            expires_in_days=new.expires_in_days,
            within=within,
            actor_id=identity.user.id,
            client_ip=ip,
        )
    shown = _token_out(token).model_dump()
    return json_of(TokenCreated(**shown, token=secret), 201)


@router.delete(
    "/account/tokens/{token_id}", status_code=204, responses=error_responses(401, 403, 404, 422)
)
async def revoke_token(
    token_id: Id, identity: Identified, services: ServicesDep, ip: ClientIp
) -> Response:
    """Revoke one of your API tokens: it stops working and streams opened with it close."""
    async with services.transaction() as unit:
        await actions.revoke_api_token(
            unit, token_id, owner_id=identity.user.id, actor_id=identity.user.id, client_ip=ip
        )
    services.identities.forget_user(identity.user.id)  # here at once; other nodes soon
    return Response(status_code=204)
