"""Jinja2 set-up: autoescaping, gettext from the request's language, time formatting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext
from fastapi.templating import Jinja2Templates
from jinja2.lexer import Token, TokenStream
from starlette.requests import Request
from starlette.responses import Response

from counterline import __version__, i18n

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
_MESSAGE_CALLS = frozenset({"_", "gettext"})


class _LanguageEnvironment(jinja2.Environment):
    """The templates of one language: each has its own compiled copies (FixedMessages)."""

    def __init__(self, language: str) -> None:
        self.language = language
        super().__init__(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            # The package's templates don't change under a running server: no stat() of
            # each template file on every page.
            auto_reload=False,
            autoescape=True,
            extensions=["jinja2.ext.i18n", FixedMessages],
        )
        self.install_gettext_callables(  # type: ignore[attr-defined]
            gettext=lambda message, **params: i18n.gettext(message, **params),
            ngettext=lambda s, p, n, **params: i18n.ngettext(s, p, n, **params),
            newstyle=True,
        )


class FixedMessages(jinja2.ext.Extension):
    """Compiles ``_("a literal")`` into the template as its translation in the environment's
    language: a page then writes it as fixed text, as it writes its markup. It is what
    jinja2's newstyle gettext answers at render time (the translation as Markup, formatted
    with no variables, so "%%" is "%"); a room page shows some fifty such messages, and
    calling gettext for each cost a third of its rendering (bench.http_api). Messages with
    variables and ``{% trans %}`` blocks still translate as the page renders."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        assert isinstance(self.environment, _LanguageEnvironment)
        language = self.environment.language
        tokens = list(stream)
        position = 0
        while position < len(tokens):
            fixed = _fixed_message(tokens, position, language)
            if fixed is None:
                yield tokens[position]
                position += 1
                continue
            line = tokens[position].lineno
            yield from (Token(line, "string", fixed), Token(line, "pipe", "|"))
            yield Token(line, "name", "safe")
            position += 4


def _fixed_message(tokens: list[Token], position: int, language: str) -> str | None:
    """The translation when ``tokens[position:]`` start ``_("literal")``, else None."""
    call = [token.type for token in tokens[position : position + 4]]
    if call != ["name", "lparen", "string", "rparen"]:
        return None
    if tokens[position].value not in _MESSAGE_CALLS:
        return None
    if position and tokens[position - 1].type in ("dot", "pipe"):
        return None  # an attribute or a filter of that name
    try:
        return str(i18n.translations(language).gettext(tokens[position + 2].value) % {})
    except (KeyError, TypeError, ValueError):  # a "%(name)s" with no variable: as it was
        return None


_environments = {language: _LanguageEnvironment(language) for language in i18n.LANGUAGES}
_templates = {language: Jinja2Templates(env=env) for language, env in _environments.items()}


def environment_for(language: str) -> jinja2.Environment:
    return _environments[language]


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
    return _templates[i18n.current_language.get()].TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code, headers=headers
    )
