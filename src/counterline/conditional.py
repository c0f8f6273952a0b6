"""Conditional GET: a JSON answer with a validator (``ETag``), and 304 Not Modified with no
body when the client already holds that representation (``If-None-Match``).

The validator is a digest of the very bytes the answer carries, so it is exact by
construction: whatever changes the answer (a new message, an edit, a deletion, an unread
count) changes it, and two viewers whose answers differ (a manager sees client IPs and a
clerk does not; only the author sees her client ids) never share one. ``no-cache`` makes the
browser ask again every time, with the validator; ``private`` keeps shared caches out.
"""

from __future__ import annotations

from hashlib import blake2b

from pydantic_core import to_json
from starlette.requests import HTTPConnection
from starlette.responses import Response

CACHING = "private, no-cache"


def etag_of(body: bytes) -> str:
    """A strong validator for ``body``."""
    return f'"{blake2b(body, digest_size=16).hexdigest()}"'


def none_match(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, RFC 9110)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(each.strip().removeprefix("W/") == etag for each in header.split(","))


def conditional_response(
    connection: HTTPConnection,
    body: bytes,
    media_type: str,
    *,
    vary: str = "Cookie, Authorization",
    etag: str | None = None,
) -> Response:
    """``body`` (200) with its validator, or 304 with no body if the client holds it.
    ``etag``: ``etag_of(body)`` made beforehand, for a body answered many times."""
    etag = etag or etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHING, "Vary": vary}
    if none_match(connection.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def conditional_json(connection: HTTPConnection, data: object) -> Response:
    """Plain data already in the route's JSON shape, as a conditional answer. Encoded by
    pydantic's serialiser: the same bytes ``model_dump_json`` gives for the same values
    (compact, UTF-8 as is), in well under the time of ``json.dumps`` for Chinese text."""
    return conditional_response(connection, to_json(data), "application/json")
