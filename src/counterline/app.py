"""The ASGI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from counterline import __version__
from counterline.accounts.pages import router as accounts_pages
from counterline.accounts.routes import router as accounts_router
from counterline.accounts.token_pages import router as token_pages
from counterline.admin.console import router as admin_console
from counterline.admin.console_routes import router as admin_console_api
from counterline.admin.integrations_pages import router as admin_integrations_pages
from counterline.admin.pages import router as admin_pages
from counterline.admin.places_pages import router as admin_places_pages
from counterline.admin.routes import router as admin_router
from counterline.admin.settings_pages import router as admin_settings_pages
from counterline.admin.user_pages import router as admin_user_pages
from counterline.admin.user_routes import router as admin_users_router
from counterline.bots.routes import router as bots_router
from counterline.config import Settings
from counterline.deps import guard_api_write, language_of_request
from counterline.errors import TooManyRequests, UserError
from counterline.exports.notices import router as notice_exports_router
from counterline.exports.routes import router as exports_router
from counterline.faq.pages import router as faq_pages
from counterline.faq.routes import router as faq_router
from counterline.hooks.routes import HOOKS_PATH
from counterline.hooks.routes import incoming as incoming_hooks
from counterline.hooks.routes import router as hooks_router
from counterline.i18n import current_language, gettext
from counterline.inbox import routes as inbox_routes
from counterline.inbox.pages import router as inbox_pages
from counterline.limits import TOO_LARGE, BodyLimit, RequestLimits
from counterline.messages import routes as messages_routes
from counterline.messages.reading_routes import router as reading_router
from counterline.messages.routes import router as messages_router
from counterline.notices import discussion_routes
from counterline.notices.pages import router as notices_pages
from counterline.notices.routes import router as notices_router
from counterline.ops.collector import tune_collector
from counterline.ops.routes import router as ops_router
from counterline.portal.pages import router as portal_pages
from counterline.portal.routes import icons as portal_icons
from counterline.portal.routes import router as portal_router
from counterline.previews.routes import router as previews_router
from counterline.rooms import routes as rooms_routes
from counterline.rooms.pages import quick_room_page
from counterline.rooms.pages import router as rooms_pages
from counterline.rooms.routes import router as rooms_router
from counterline.search.pages import router as search_pages
from counterline.search.routes import router as search_router
from counterline.search.term_pages import router as search_term_pages
from counterline.security import SecurityHeaders
from counterline.services import Services
from counterline.streams.endpoint import StreamEndpoint
from counterline.unicode_guard import RefuseInvalidUnicode
from counterline.uploads.downloads import router as downloads_router
from counterline.uploads.receiving import FILE_TOO_LARGE, MULTIPART_OVERHEAD, megabytes
from counterline.uploads.routes import router as uploads_router
from counterline.web import api_docs
from counterline.web.errors import page_for_user_error, render_error_page
from counterline.web.prefixed import PrefixedRouter
from counterline.web.quick_routes import QuickRoute, QuickRoutes

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/api/v1"


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    services = services or Services.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        collector = tune_collector(settings.gc_tuning, settings.gc_threshold, settings.gc_refreeze)
        try:
            yield
        finally:
            if collector is not None:
                collector.undo()
            await services.stop()

    app = CounterlineApp(
        title="Counterline API",
        version=__version__,
        description="The JSON API of Counterline (窗口业务交流平台). Authenticate with the "
        "session cookie (browsers) or `Authorization: Bearer <token>` (programs: a scoped API "
        "token). Errors are in the language of `Accept-Language` (English without it). The "
        "examples are `curl` commands with the site's address in `$CL` and a token in "
        "`$TOKEN`; a post's `client_id` is a UUID made once per message and reused for its "
        "retries (the same id is the same message).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    api = PrefixedRouter(prefix=API_PREFIX, dependencies=[Depends(guard_api_write)])
    for router in (accounts_router, rooms_router, messages_router, previews_router):
        api.include_router(router)
    api.include_router(uploads_router)
    api.include_router(downloads_router)
    api.include_router(reading_router)
    api.include_router(inbox_routes.router)
    api.include_router(exports_router)
    api.include_router(search_router)
    api.include_router(admin_router)
    api.include_router(admin_console_api)
    api.include_router(admin_users_router)
    api.include_router(hooks_router)
    api.include_router(bots_router)
    api.include_router(notices_router)
    api.include_router(faq_router)
    api.include_router(discussion_routes.api)
    api.include_router(notice_exports_router)
    api.include_router(portal_router)
    app.include_router(api)
    app.include_router(incoming_hooks)
    for pages in (accounts_pages, rooms_pages, inbox_pages, search_pages, api_docs.router):
        app.include_router(pages)
    app.include_router(admin_console)
    app.include_router(admin_places_pages)
    app.include_router(admin_settings_pages)
    app.include_router(admin_integrations_pages)
    app.include_router(search_term_pages)
    app.include_router(admin_pages)
    app.include_router(token_pages)
    app.include_router(notices_pages)
    app.include_router(discussion_routes.pages)
    app.include_router(faq_pages)
    app.include_router(portal_pages)
    app.include_router(portal_icons)
    app.include_router(admin_user_pages)
    app.include_router(ops_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_error_handlers(app)

    if settings.quick_reads:
        app.add_middleware(
            QuickRoutes,
            routes=[
                QuickRoute(
                    "history_page",
                    f"{API_PREFIX}/rooms/([^/]+)/messages",
                    messages_routes.quick_list_messages,
                ),
                QuickRoute(
                    "post_message",
                    f"{API_PREFIX}/rooms/([^/]+)/messages",
                    messages_routes.quick_post_message,
                    method="POST",
                ),
                QuickRoute("room_list", f"{API_PREFIX}/rooms", rooms_routes.quick_room_list),
                QuickRoute("room_page", "/rooms/([^/]+)", quick_room_page),
                QuickRoute("inbox", f"{API_PREFIX}/inbox", inbox_routes.quick_inbox),
                QuickRoute(
                    "inbox_count", f"{API_PREFIX}/inbox/count", inbox_routes.quick_inbox_count
                ),
            ],
            answered=services.metrics.quick_reads,
        )
    app.add_middleware(RefuseInvalidUnicode)  # inside RequestLimits: reads what it admits
    app.add_middleware(
        RequestLimits,
        max_bytes=settings.max_request_body_bytes,
        seconds=settings.request_body_timeout_seconds,
        larger={f"{API_PREFIX}/uploads": lambda: _upload_limit(services.site.max_upload_bytes)},
    )
    app.add_middleware(LanguageFromRequest)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    return app


def _upload_limit(max_bytes: int) -> BodyLimit:
    """The upload route's body: the file and its multipart framing. The route counts the
    file's own bytes against ``max_bytes`` (the console's limit, else the config file's);
    this refuses a body declared larger at once."""
    return BodyLimit(max_bytes + MULTIPART_OVERHEAD, FILE_TOO_LARGE, {"max": megabytes(max_bytes)})


class CounterlineApp(FastAPI):
    """FastAPI with the stream served outside every middleware (``StreamEndpoint``): a tab
    holds its socket for hours, and each layer it passed through would stay in memory
    with it, a coroutine and more per socket for the garbage collector to scan."""

    def build_middleware_stack(self) -> ASGIApp:
        return StreamEndpoint(super().build_middleware_stack())


class LanguageFromRequest:
    """Sets the request's language from cookie or Accept-Language; a logged-in
    user's own setting overrides it once they are identified."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            current_language.set(language_of_request(HTTPConnection(scope)))
        await self.app(scope, receive, send)


def _wants_json(request: Request) -> bool:
    """The API and the incoming webhooks answer errors in JSON; pages, with a page."""
    return request.url.path.startswith((API_PREFIX, f"{HOOKS_PATH}/"))


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, error: UserError) -> Response:
        headers = {}
        if isinstance(error, TooManyRequests):
            headers["Retry-After"] = str(error.retry_after)
        if _wants_json(request):
            return JSONResponse(
                {"error": error.translated()}, status_code=error.status_code, headers=headers
            )
        return page_for_user_error(request, error, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            message = gettext("The request body is not valid JSON.")
        else:
            fields = ", ".join(
                ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
                for problem in problems
            )
            message = gettext("Invalid or missing fields: %(fields)s", fields=fields)
        if not _wants_json(request):
            # A page address that cannot exist (/rooms/abc) is not found; a bad form, refused.
            if all(problem.get("loc", ("",))[0] == "path" for problem in problems):
                return render_error_page(request, 404, gettext("Not found."))
            return render_error_page(request, 400, message)
        details = [
            {"field": ".".join(str(p) for p in problem.get("loc", ())), "problem": problem["msg"]}
            for problem in problems
        ]
        return JSONResponse({"error": message, "details": details}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = {
            404: gettext("Not found."),
            405: gettext("Method not allowed."),
            408: gettext("The request took too long to arrive. Please try again."),
            413: gettext(TOO_LARGE),
        }.get(error.status_code, str(error.detail))
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=error.status_code)
        return render_error_page(request, error.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        message = gettext("Something went wrong on the server. Please try again.")
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=500)
        return render_error_page(request, 500, message)
