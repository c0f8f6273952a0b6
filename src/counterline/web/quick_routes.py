"""The hottest routes, answered before FastAPI routes the request.

A page of history and the room list are what every tab asks for again and again, and a
post is what every listener waits for. FastAPI would first walk its route table and then
solve the route's dependencies, more CPU than the read itself (bench.http_api). Here a
route's path is matched once, and its quick handler answers the common case. The handler
returns None for anything else (an option it doesn't take, a caller it doesn't know) and
raises ``UserError`` where the route would refuse; then the request goes on to FastAPI, and
the route itself answers it, errors included. So the quick path never answers anything the
route would answer differently (tests/test_quick_reads.py holds the two side by side). A
POST's body (of a declared length) is read here first, and whoever answers reads it again.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from counterline.errors import UserError

QuickHandler = Callable[..., Awaitable[Response | None]]


class QuickRoute(NamedTuple):
    """A route's quick handler; the path pattern's groups are its arguments after the
    request. ``name`` labels its counts."""

    name: str
    path: str
    handler: QuickHandler
    method: str = "GET"


class QuickRoutes:
    """ASGI middleware. ``answered`` counts, per route name, the requests answered here
    (True) and those handed on to the route (False): ``/metrics`` shows them."""

    def __init__(
        self, app: ASGIApp, routes: Sequence[QuickRoute], answered: Counter[tuple[str, bool]]
    ) -> None:
        self.app = app
        self.routes = [
            (route.method, route.name, re.compile(route.path), route.handler) for route in routes
        ]
        self.methods = {route.method for route in routes}
        self.answered = answered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        quick = scope["type"] == "http" and scope["method"] in self.methods
        found = self._route(scope) if quick else None
        if found is None:
            await self.app(scope, receive, send)
            return
        name, handler, arguments = found
        read: list[Message] = []
        if scope["method"] != "GET":
            if not _declares_length(scope):
                await self.app(scope, receive, send)
                return
            read, failure = await _body_of(receive)
            if failure is not None:  # the route meets it too, and answers it
                await self.app(scope, _replaying(read, receive, failure), send)
                return
        response = await self._answer(
            name, handler, Request(scope, _replaying(read, receive)), arguments
        )
        if response is None:
            await self.app(scope, _replaying(read, receive), send)
        else:
            await response(scope, receive, send)

    def _route(self, scope: Scope) -> tuple[str, QuickHandler, tuple[str, ...]] | None:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for method, name, pattern, handler in self.routes:
            match = pattern.fullmatch(path) if method == scope["method"] else None
            if match is not None:
                return name, handler, match.groups()
        return None

    async def _answer(
        self, name: str, handler: QuickHandler, request: Request, arguments: tuple[str, ...]
    ) -> Response | None:
        try:
            response = await handler(request, *arguments)
        except UserError:
            response = None
        self.answered[name, response is not None] += 1
        return response


def _declares_length(scope: Scope) -> bool:
    """A body of a declared length, so reading it here meets no limit (RequestLimits has
    refused a longer one already)."""
    names = {name for name, _ in scope["headers"]}
    return b"content-length" in names and b"transfer-encoding" not in names


async def _body_of(receive: Receive) -> tuple[list[Message], Exception | None]:
    """The request's body messages, up to the last one or the first error (a body that is
    not valid Unicode, a client that stalls): whoever reads after this meets that error."""
    read: list[Message] = []
    try:
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                return read, None
    except Exception as error:
        return read, error


def _replaying(read: list[Message], receive: Receive, failure: Exception | None = None) -> Receive:
    """``receive`` as if nothing had been read: what was read here first, then the error
    reading met, or the rest."""
    if not read and failure is None:
        return receive
    pending = deque(read)

    async def replay() -> Message:
        nonlocal failure
        if pending:
            return pending.popleft()
        if failure is not None:
            error, failure = failure, None
            raise error
        return await receive()

    return replay
