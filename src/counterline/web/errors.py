from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

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
