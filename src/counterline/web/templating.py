"""Jinja2 set-up: autoescaping, gettext from the request's language, time formatting."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.runtime
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from counterline import __version__, i18n

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
)
_environment.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=lambda message, **params: i18n.gettext(message, **params),
    ngettext=lambda s, p, n, **params: i18n.ngettext(s, p, n, **params),
    newstyle=True,
)
# A message without variables, as the page shows it, per language and escaping: bounded,
# for messages from templates are finitely many.
_SHOWN: dict[tuple[str, bool, str], str] = {}
_SHOWN_LIMIT = 10_000


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str, **variables: Any) -> str:
    """What jinja2's newstyle ``gettext`` answers (``jinja2.ext._make_new_gettext``),
    remembered for messages without variables: a room page shows some fifty, and jinja2's
    calling, Markup and formatting cost a third of its rendering (bench.http_api)."""
    autoescape = context.eval_ctx.autoescape
    key = (i18n.current_language.get(), autoescape, message)
    if not variables and (shown := _SHOWN.get(key)) is not None:
        return shown
    text = i18n.gettext(message)
    formatted = (Markup(text) if autoescape else text) % variables
    if not variables and len(_SHOWN) < _SHOWN_LIMIT:
        _SHOWN[key] = formatted
    return formatted


_environment.globals.update(_=_gettext, gettext=_gettext)
templates = Jinja2Templates(env=_environment)


def local_time(value: datetime | None, request: Request, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    zone = request.app.state.services.site.zone  # the console's time zone, else the file's
    return value.astimezone(zone).strftime(fmt)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    site = request.app.state.services.site
    base = {
        "language": i18n.current_language.get(),
        "html_lang": "zh-CN" if i18n.current_language.get() == "zh_CN" else "en",
        "time_zone": site.time_zone,
        "site_name": site.site_name,
        "version": __version__,
        "local_time": lambda value, fmt="%Y-%m-%d %H:%M": local_time(value, request, fmt),
    }
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code, headers=headers
    )
