"""Text reaches the application as valid Unicode: checked once, here, at the edge.

A JSON body can spell a lone UTF-16 surrogate as an escape (``"x\\ud800y"``). Python
decodes it into a ``str`` that no encoder will take (the database driver, the JSON
response), so the request would fail deep inside with a 500. Query strings, paths and
forms cannot carry one: Starlette decodes them with replacement characters (U+FFFD)
or, for multipart fields that are not UTF-8, as Latin-1.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from counterline.i18n import N_, gettext

INVALID_UNICODE = N_("The request contains text that is not valid Unicode.")


class RefuseInvalidUnicode:
    """Checks each JSON request body as its last part arrives.

    The check runs inside the app's own read of the body, not ahead of it: the body size
    and time limits still apply first, and the 400 is answered by the app's error
    handler, in the caller's language, on a connection that stays open.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _declares_json(scope):
            receive = _checking(receive)
        await self.app(scope, receive, send)


def _declares_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return False


def _checking(receive: Receive) -> Receive:
    parts: list[bytes] = []

    async def receive_checked() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                body = b"".join(parts)
                parts.clear()
                if not is_valid_unicode_json(body):
                    raise HTTPException(400, gettext(INVALID_UNICODE))
        return message

    return receive_checked


def is_valid_unicode_json(body: bytes) -> bool:
    """Whether ``body`` is UTF-8 and no string in it (if it is JSON) holds a lone surrogate.
    A body that is not JSON passes: the router refuses it with its own message."""
    try:
        text = body.decode("utf-8")  # strict: refuses surrogates encoded as bytes too
    except UnicodeDecodeError:
        return False
    if "\\u" not in text:  # the only way JSON can spell a surrogate
        return True
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return True
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
