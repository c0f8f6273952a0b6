"""The hottest GET routes, answered before FastAPI routes the request.

A page of history and the room list are what every tab asks for again and again. FastAPI
would first walk its route table and then solve the route's dependencies, more CPU than the
read itself (bench.http_api). Here a route's path is matched once, and its quick handler
answers the common case. The handler returns None for anything else (an option it doesn't
take, a caller it doesn't know) and raises ``UserError`` where the route would refuse; then
the request goes on to FastAPI, and the route itself answers it, errors included. So the
quick path never answers anything the route would answer differently
(tests/test_quick_reads.py holds the two side by side).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from counterline.errors import UserError

QuickHandler = Callable[..., Awaitable[Response | None]]


class QuickRoute(NamedTuple):
    """A GET route's quick handler; the path pattern's groups are its arguments after the
    request. ``name`` labels its counts."""

    name: str
    path: str
    handler: QuickHandler


class QuickRoutes:
    """ASGI middleware. ``answered`` counts, per route name, the requests answered here
    (True) and those handed on to the route (False): ``/metrics`` shows them."""

    def __init__(
        self, app: ASGIApp, routes: Sequence[QuickRoute], answered: Counter[tuple[str, bool]]
    ) -> None:
        self.app = app
        self.routes = [(route.name, re.compile(route.path), route.handler) for route in routes]
        self.answered = answered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            response = await self._answer(scope, receive)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> Response | None:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for name, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            try:
                response = await handler(Request(scope, receive), *match.groups())
            except UserError:
                response = None
            self.answered[name, response is not None] += 1
            return response
        return None
