"""What one HTTP request may cost the server: its body must be small and keep arriving.

A body larger than ``max_bytes`` is refused with 413 (at once when its Content-Length
says so, else as soon as that much has arrived); a path listed in ``larger`` (uploads) has
its own limit and refusal (or a function giving it: a limit that may change while the
server runs); a client that stops sending halfway
through gets 408 after ``seconds`` instead of holding its request open. Slow request
*headers* are the front proxy's to cut (docs/security.md, nginx).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from counterline.errors import UserError
from counterline.i18n import N_, gettext

TOO_LARGE = N_("The request is too large.")


@dataclass(frozen=True)
class BodyLimit:
    """A path's own body limit, refused with its own message (an N_ msgid and params)."""

    max_bytes: int
    message: str = TOO_LARGE
    params: Mapping[str, object] = field(default_factory=dict)

    def refusal(self) -> UserError:
        return UserError(self.message, status_code=413, **self.params)


class RequestLimits:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        seconds: float,
        larger: Mapping[str, BodyLimit | Callable[[], BodyLimit]] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.seconds = seconds
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"]) if self.larger else None
        if callable(limit):
            limit = limit()
        max_bytes = self.max_bytes if limit is None else limit.max_bytes
        if self._declared_length(scope) > max_bytes:
            message = gettext(TOO_LARGE) if limit is None else limit.refusal().translated()
            await JSONResponse({"error": message}, status_code=413)(scope, receive, send)
            return
        await self.app(scope, self._limited(receive, max_bytes, limit), send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    def _limited(self, receive: Receive, max_bytes: int, limit: BodyLimit | None) -> Receive:
        received = 0
        body_done = False

        async def receive_within_limits() -> Message:
            nonlocal received, body_done
            if body_done:  # e.g. waiting for the client to disconnect: no limit
                return await receive()
            try:
                async with asyncio.timeout(self.seconds):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise HTTPException(413) if limit is None else limit.refusal()
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        return receive_within_limits


class TokenBuckets:
    """A rate per key (``rate`` a second, bursts up to ``burst``), in this process: each key's
    bucket refills continuously and each request takes one token.

    ``take`` answers 0 when the request may go ahead, else how many whole seconds until a
    token is there (for Retry-After). Full buckets are forgotten, so idle keys cost nothing.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[object, tuple[float, float]] = {}  # key: (tokens, at)

    def take(self, key: object) -> int:
        now = self._clock()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        return 0

    def _forget_full(self, now: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.burst:
                del self._buckets[key]
