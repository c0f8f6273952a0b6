"""HTML pages. Thin: they call the same actions and queries as the JSON API."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from counterline.accounts import actions as accounts
from counterline.accounts import views as account_views
from counterline.accounts.routes import set_session_cookie
from counterline.accounts.secrets import new_token
from counterline.db import Unit
from counterline.deps import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    ClientIp,
    OptionalIdentity,
    ServicesDep,
    check_form_token,
)
from counterline.errors import NotFound, UserError
from counterline.i18n import LANGUAGES, N_, current_language
from counterline.ids import Id
from counterline.messages.actions import list_messages
from counterline.messages.queries import latest_message_id
from counterline.rooms import queries as room_queries
from counterline.rooms.actions import NOT_A_MEMBER, get_visible_room
from counterline.rooms.schemas import RoomOut
from counterline.services import Services
from counterline.web import api_docs
from counterline.web.client_strings import client_strings
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(api_docs.router)
LOGIN_CSRF_COOKIE = "counterline_login_csrf"
# Outside strings JSON has none of these characters, so escaping them everywhere is exact.
# Without "<" the HTML parser cannot leave the script's data state ("</script", "<!--").
_PAGE_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def encode_for_page(data: object) -> str:
    """JSON for a <script type="application/json"> block: no "<", ">" or "&" reaches the
    HTML parser, and the text parses back (JSON.parse) to exactly ``data``."""
    return json.dumps(data, ensure_ascii=False).translate(_PAGE_ESCAPES)


async def _directory_json(unit: Unit, services: Services) -> str:
    """The staff directory for the page, encoded at most once per cache period."""
    directory = services.directory.get()
    if directory is None:
        directory = encode_for_page(await account_views.list_directory(unit, services.presence))
        services.directory.put(directory)
    return directory


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/")
async def home(identity: OptionalIdentity, services: ServicesDep) -> Response:
    if identity is None:
        return RedirectResponse("/login", status_code=303)
    async with services.reading() as unit:
        rooms = await room_queries.list_rooms_of(unit.session, identity.user.id)
    if not rooms:
        raise NotFound(NOT_A_MEMBER)
    return RedirectResponse(f"/rooms/{rooms[0].id}", status_code=303)


@router.get("/login")
async def login_page(
    request: Request, identity: OptionalIdentity, next: str | None = None
) -> Response:
    if identity is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
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
        {"csrf_token": token, "next": _safe_next(next), "error": error, "username": username},
        status_code=status_code,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
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
    async with services.transaction() as unit:
        if old:
            await accounts.log_out(unit, old, ip)
        result = await accounts.log_in(unit, username, password, ip)
    if result.error is not None:
        return _login_form(
            request,
            next=next,
            error=result.error.translated(),
            username=username,
            status_code=result.error.status_code,
        )
    assert result.session_token is not None and result.user is not None
    target = "/account/password" if result.user.must_change_password else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, result.session_token, services.settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout_submit(
    request: Request,
    identity: OptionalIdentity,
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
async def password_page(request: Request, identity: OptionalIdentity) -> Response:
    if identity is None:
        return _to_login(request)
    return render(request, "accounts/password.html", {"identity": identity, "error": None})


@router.post("/account/password")
async def password_submit(
    request: Request,
    identity: OptionalIdentity,
    services: ServicesDep,
    ip: ClientIp,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    repeat_password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if identity is None:
        return _to_login(request)
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
    identity: OptionalIdentity,
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
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/rooms/{room_id}")
async def room_page(
    request: Request, room_id: Id, identity: OptionalIdentity, services: ServicesDep
) -> Response:
    if identity is None:
        return _to_login(request)
    if identity.user.must_change_password:
        return RedirectResponse("/account/password", status_code=303)
    user = identity.user
    async with services.reading() as unit:
        room = await get_visible_room(unit, user, room_id)
        rooms = await room_queries.list_rooms_of(unit.session, user.id)
        joinable = await room_queries.list_joinable_rooms(unit.session, user.id)
        latest = await latest_message_id(unit.session)
        page = await list_messages(unit, user, room.id, zone=services.settings.zone)
        directory = await _directory_json(unit, services)
        me = await account_views.describe(unit, user, services.presence)
    boot = {
        "room": RoomOut.of(room).model_dump(mode="json"),
        "me": me.model_dump(mode="json"),
        "staff": user.sees_client_ips,
        "csrf_token": identity.csrf_token,
        "time_zone": services.settings.time_zone,
        "language": current_language.get(),
        "page": page.model_dump(mode="json"),
        "last_message_id": latest,
        "heartbeat": {
            "ping_seconds": services.settings.client_ping_seconds,
            "pong_timeout_seconds": services.settings.client_pong_timeout_seconds,
        },
        "strings": client_strings(),
    }
    return render(
        request,
        "rooms/room.html",
        {
            "identity": identity,
            "me": me,
            "room": room,
            "rooms": rooms,
            "joinable": joinable,
            "boot_json": encode_for_page(boot),
            "directory_json": directory,
        },
    )
