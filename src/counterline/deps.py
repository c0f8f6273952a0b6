"""Request dependencies shared by every capability's routes."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Query, Request
from starlette.requests import HTTPConnection

from counterline.accounts.actions import (
    Identity,
    identify_by_session,
    identify_by_token,
    is_live,
    session_needs_touch,
    touch_session,
)
from counterline.accounts.policy import scope_needed
from counterline.accounts.secrets import token_hash
from counterline.errors import Forbidden
from counterline.i18n import N_, current_language, pick_language
from counterline.net import client_ip, request_scheme
from counterline.services import Services

# Days as filters take them, written YYYY-MM-DD: each capability checks them, and its error
# names the syntax it offers (days.start_of: when the day begins).
DayAfter = Annotated[
    str | None,
    Query(max_length=32, description="From the start of this day, YYYY-MM-DD (site time zone)."),
]
DayBefore = Annotated[
    str | None,
    Query(max_length=32, description="Before the start of this day, YYYY-MM-DD (site time zone)."),
]

SESSION_COOKIE = "counterline_session"
LANGUAGE_COOKIE = "counterline_lang"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def services_of(connection: HTTPConnection) -> Services:
    return connection.app.state.services


# Dependencies are coroutines even when they need not be: FastAPI runs a plain
# function dependency in a worker thread, a thread hop per request.
async def get_services(connection: HTTPConnection) -> Services:
    return services_of(connection)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_client_ip(connection: HTTPConnection) -> str:
    return client_ip(connection, services_of(connection).settings)


ClientIp = Annotated[str, Depends(get_client_ip)]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls, with the services and the client address (``guards.IdentifiedCaller``)."""

    identity: Identity
    services: Services
    ip: str


def caller_of(connection: HTTPConnection, identity: Identity) -> Caller:
    services = services_of(connection)
    return Caller(identity, services, client_ip(connection, services.settings))


def bearer_token(connection: HTTPConnection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def find_identity(connection: HTTPConnection) -> Identity | None:
    """Who is calling: a bearer token, else the session cookie. Sets the UI language of
    pages (the API answers in the language of Accept-Language).

    A token is held to its scopes here, for every route and the stream at once: the scope
    a request needs follows from its method and path (``policy.scope_needed``)."""
    if hasattr(connection.state, "identity"):
        return connection.state.identity
    services = services_of(connection)
    identity = await _verified_identity(
        services, bearer_token(connection), connection.cookies.get(SESSION_COOKIE)
    )
    if identity is not None and identity.token is not None:
        method = connection.scope.get("method", "GET")  # a WebSocket handshake is a GET
        identity.check_scope(scope_needed(method, connection.url.path))
    if identity is not None and session_needs_touch(identity):
        async with services.transaction() as unit:
            await touch_session(unit, identity)
    connection.state.identity = identity
    if identity is not None and not is_api_request(connection):
        current_language.set(
            pick_language(identity.user.language, "", language_of_request(connection))
        )
    return identity


async def _verified_identity(
    services: Services, token: str | None, cookie: str | None
) -> Identity | None:
    """The identity behind a token or cookie: from the process's cache while it is fresh
    (and still live), else from the database."""
    if not token and not cookie:
        return None
    settings = services.settings
    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    key = f"token:{token_hash(token)}" if token else f"session:{token_hash(cookie or '')}"
    cached = services.identities.get(key)
    if cached is not None:
        return cached if is_live(cached, idle=idle, absolute=absolute) else None
    async with services.reading() as unit:
        if token:
            identity = await identify_by_token(unit, token)
        else:
            identity = await identify_by_session(unit, cookie or "", idle=idle, absolute=absolute)
    if identity is not None:
        services.identities.put(key, identity)
    return identity


API_PATHS = ("/api/v1/", "/hooks/")
API_PAGES = frozenset({"/api/v1/docs"})  # the API reference is a page, in the reader's language


def is_api_request(connection: HTTPConnection) -> bool:
    """An HTTP request to the JSON API or an incoming webhook (not a page, not the stream)."""
    if connection.scope["type"] != "http":
        return False
    path: str = connection.scope["path"]  # not ``url.path``: a URL object per call costs more
    return path.startswith(API_PATHS) and path not in API_PAGES


def language_of_request(connection: HTTPConnection) -> str:
    """Pages: the language cookie, else Accept-Language, else the site's default. The
    API: Accept-Language, else English (a program gets one language, whoever it acts
    as; the site's own pages send their page's language)."""
    if is_api_request(connection):
        return pick_language(None, connection.headers.get("accept-language", ""), "en")
    return pick_language(
        connection.cookies.get(LANGUAGE_COOKIE),
        connection.headers.get("accept-language", ""),
        services_of(connection).site.default_language,  # the console's, else the file's
    )


# Routes declare who may call them with the policy types of counterline.accounts.guards.
OptionalIdentity = Annotated[Identity | None, Depends(find_identity)]


def is_same_origin(connection: HTTPConnection, origin: str) -> bool:
    """Whether ``Origin`` is our own site: the configured public origin when there is
    one, else the scheme and host the request was made to (scheme included, so a page
    on http:// cannot act on the https:// site)."""
    settings = services_of(connection).settings
    if origin in settings.allowed_origins:
        return True
    if settings.public_origin:
        ours = settings.public_origin
    else:
        ours = f"{request_scheme(connection, settings)}://{connection.headers.get('host', '')}"
    theirs, ours_normalised = _normalised_origin(origin), _normalised_origin(ours)
    return theirs is not None and theirs == ours_normalised


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _normalised_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` in lower case without the scheme's default port; None for
    what is not a URL with a host (e.g. ``http://[::1`` from a hostile client)."""
    try:
        parts = urlsplit(origin.strip().lower())
    except ValueError:
        return None
    if not parts.netloc:
        return None
    netloc = parts.netloc.removesuffix(_DEFAULT_PORTS.get(parts.scheme, ""))
    return f"{parts.scheme}://{netloc}"


def check_origin(connection: HTTPConnection) -> None:
    origin = connection.headers.get("origin")
    if origin is not None and not is_same_origin(connection, origin):
        raise Forbidden(N_("Request refused: it comes from another site."))


async def guard_api_write(request: Request) -> None:
    """CSRF protection for the JSON API.

    Bearer-token calls carry no ambient authority and pass. Cookie calls must come
    from our own origin and either send the session's CSRF token or a JSON body
    (a cross-site browser cannot send JSON without a CORS preflight we never grant).
    A change without a body (``PUT .../membership``, ``DELETE``) needs the token.
    The caller is identified here for every API request (a token is held to its scopes
    even on public routes), by a call rather than a dependency of its own: one layer
    less for FastAPI to solve on every read.
    """
    identity = await find_identity(request)
    if request.method in SAFE_METHODS or bearer_token(request):
        return
    check_origin(request)
    if identity is None or identity.session is None:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if sent and hmac.compare_digest(sent, identity.session.csrf_token):
        return
    if sent or media_type_of(request) != "application/json":
        raise Forbidden(N_("Request refused: the security token is missing or wrong."))


def media_type_of(request: Request) -> str:
    """The request body's media type, as ``application/json``: no parameters, lowercase."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def check_form_token(connection: HTTPConnection, sent: str, expected: str | None) -> None:
    """CSRF check for HTML form posts."""
    check_origin(connection)
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise Forbidden(N_("This form has expired. Please reload the page and try again."))
