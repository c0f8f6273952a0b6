"""An APIRouter that answers "no match" at once for a path outside its prefix.

FastAPI matches a request against the included routers one route at a time, and asks each
router again when it hands the request on: every page (``/rooms/{id}``) was compared with
each of the hundred-odd API routes before reaching its own, about half a millisecond of
CPU per page (bench.http_api). Every route of such a router starts with its prefix, so a
path that doesn't cannot match any of them, and the answer is the same without asking.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope


class PrefixedRouter(APIRouter):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if self.prefix and not path.startswith(self.prefix):
            return Match.NONE, {}
        return super().matches(scope)
