"""Account pages: log in, log out, password, language. Thin, like the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from counterline.accounts import actions as accounts
from counterline.accounts.guards import PUBLIC, Anyone, LoggedIn
from counterline.accounts.routes import set_session_cookie
from counterline.accounts.secrets import new_token
from counterline.deps import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    ClientIp,
    ServicesDep,
    check_form_token,
)
from counterline.errors import UserError
from counterline.i18n import LANGUAGES, N_
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "counterline_login_csrf"


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
async def login_page(request: Request, identity: Anyone, next: str | None = None) -> Response:
    if identity is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next=next)


def _login_form(
    request: Request,
    *,
    next: str | None,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
) -> Response:
    token = new_token()
    response = render(
        request,
        "accounts/login.html",
        {"csrf_token": token, "next": safe_next(next), "error": error, "username": username},
        status_code=status_code,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login", dependencies=[PUBLIC])
async def login_submit(
    request: Request,
    services: ServicesDep,
    ip: ClientIp,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    check_form_token(request, csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE))
    old = request.cookies.get(SESSION_COOKIE)
    async with services.reading() as unit:
        verdict = await accounts.check_password(unit, username, password, ip)
    async with services.transaction() as unit:
        result = await accounts.log_in_replacing(unit, old, username, password, ip, verdict)
    if result.error is not None:
        return _login_form(
            request,
            next=next,
            error=result.error.translated(),
            username=username,
            status_code=result.error.status_code,
        )
    assert result.session_token is not None and result.user is not None
    target = "/account/password" if result.user.must_change_password else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, result.session_token, services.settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout_submit(
    request: Request,
    identity: Anyone,
    services: ServicesDep,
    ip: ClientIp,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if identity is not None and token:
        check_form_token(request, csrf_token, identity.csrf_token)
        async with services.transaction() as unit:
            await accounts.log_out(unit, token, ip)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password")
async def password_page(request: Request, identity: LoggedIn) -> Response:
    return render(request, "accounts/password.html", {"identity": identity, "error": None})


@router.post("/account/password")
async def password_submit(
    request: Request,
    identity: LoggedIn,
    services: ServicesDep,
    ip: ClientIp,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    repeat_password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_form_token(request, csrf_token, identity.csrf_token)
    try:
        if new_password != repeat_password:
            raise UserError(N_("The two new passwords differ."))
        async with services.transaction() as unit:
            await accounts.change_password(
                unit, await accounts.reload(unit, identity), current_password, new_password, ip
            )
    except UserError as error:
        return render(
            request,
            "accounts/password.html",
            {"identity": identity, "error": error.translated()},
            status_code=400,
        )
    return RedirectResponse("/", status_code=303)


@router.post("/account/language")
async def language_submit(
    request: Request,
    identity: Anyone,
    services: ServicesDep,
    language: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if language not in LANGUAGES:
        raise UserError(N_("Unknown language."))
    if identity is not None:
        check_form_token(request, csrf_token, identity.csrf_token)
        async with services.transaction() as unit:
            await accounts.set_language(
                unit, (await accounts.reload(unit, identity)).user, language
            )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response
