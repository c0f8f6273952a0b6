from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import RedirectResponse
from starlette.requests import Request
from starlette.responses import Response

from counterline.errors import PasswordChangeRequired, Unauthorized, UserError
from counterline.web.templating import render


def render_error_page(
    request: Request, status_code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return render(
        request,
        "web/error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
        headers=headers,
    )


def page_for_user_error(
    request: Request, error: UserError, headers: dict[str, str] | None = None
) -> Response:
    """A refused page: a route's policy sends the caller to log in (and back here after)
    or to replace their one-time password; any other error is shown."""
    if isinstance(error, Unauthorized):
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    if isinstance(error, PasswordChangeRequired):
        return RedirectResponse("/account/password", status_code=303)
    return render_error_page(request, error.status_code, error.translated(), headers)
