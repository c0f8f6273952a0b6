"""The JSON API's error answers, as each route declares them in the OpenAPI document.

Every 4xx is ``{"error": "..."}`` in the caller's language (app.py's handlers); a 422
also lists the fields at fault in ``details``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    error: str = Field(description="What went wrong, in the caller's language.")


class ProblemOut(BaseModel):
    field: str = Field(description="Where: e.g. `body.name`, `query.before`, `path.room_id`.")
    problem: str


class InvalidOut(ErrorOut):
    details: list[ProblemOut]


_MEANINGS = {
    400: "Refused: `error` says why (including a body that is not valid UTF-8 Unicode).",
    401: "Not logged in: no valid session cookie or bearer token.",
    403: "Not allowed: your role, a one-time password still to replace, or (with the "
    "session cookie) a missing CSRF token or another site's origin.",
    404: "Not found, or not visible to you.",
    408: "The request body stopped arriving.",
    409: "Conflicts with what is already stored.",
    413: "The request body is too large.",
    415: "The content is not of a type accepted here; `error` says which are.",
    422: "Invalid or missing fields (e.g. an id past 2⁶³−1); `details` lists them.",
    429: "Too many requests: retry after `Retry-After` seconds.",
}
# What any route that reads a JSON body may answer before the route itself runs.
BODY_ERRORS = (400, 408, 413, 422)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers these error codes."""
    return {
        code: {"model": InvalidOut if code == 422 else ErrorOut, "description": _MEANINGS[code]}
        for code in sorted(set(codes))
    }
