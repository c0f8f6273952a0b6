"""Every route declares who may call it, and refuses everyone its policy refuses.

The policy of a route is read from the route table: the one dependency among the route's own
(``accounts.guards``) that declares a ``Policy``. A new route without one fails here, and so
does a route whose policy differs from the table below: adding a route means stating its
policy here too, where a reviewer sees it. The stream (``/api/v1/stream``) is served ahead of
the router and checks its caller itself (tests/test_first_password.py, tests/test_security.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from counterline.accounts.actions import get_branch_named
from counterline.accounts.policy import Policy, Role, allows, policy_of
from counterline.app import API_PREFIX, create_app
from counterline.config import Settings
from counterline.people.actions import add_user
from counterline.services import Services
from tests.cast import CHENGBEI, Cast
from tests.support.clients import Client

PUBLIC, LOGGED_IN, IDENTIFIED = Policy.PUBLIC, Policy.LOGGED_IN, Policy.IDENTIFIED
POLICIES: dict[tuple[str, str], Policy] = {
    ("POST", "/api/v1/session"): PUBLIC,
    ("GET", "/api/v1/session"): LOGGED_IN,
    ("DELETE", "/api/v1/session"): PUBLIC,
    ("PUT", "/api/v1/session/password"): LOGGED_IN,
    ("GET", "/api/v1/users"): IDENTIFIED,
    ("GET", "/api/v1/account/tokens"): IDENTIFIED,
    ("POST", "/api/v1/account/tokens"): IDENTIFIED,
    ("DELETE", "/api/v1/account/tokens/{token_id}"): IDENTIFIED,
    ("GET", "/api/v1/rooms"): IDENTIFIED,
    ("GET", "/api/v1/inbox"): IDENTIFIED,
    ("GET", "/api/v1/inbox/count"): IDENTIFIED,
    ("GET", "/api/v1/account/notifications"): IDENTIFIED,
    ("PUT", "/api/v1/account/notifications"): IDENTIFIED,
    ("PUT", "/api/v1/rooms/{room_id}/mute"): IDENTIFIED,  # members only: in the action
    ("POST", "/api/v1/rooms"): Policy.TRAINER_OR_ADMIN,
    ("PATCH", "/api/v1/rooms/{room_id}"): IDENTIFIED,  # creator or admin: in the action
    ("PUT", "/api/v1/rooms/{room_id}/membership"): IDENTIFIED,
    ("POST", "/api/v1/rooms/{room_id}/members"): IDENTIFIED,  # creator or admin: in the action
    ("GET", "/api/v1/rooms/{room_id}/members"): IDENTIFIED,  # members only: in the action
    ("POST", "/api/v1/rooms/{room_id}/read"): IDENTIFIED,  # members only: in the action
    ("POST", "/api/v1/rooms/read"): IDENTIFIED,
    ("GET", "/api/v1/unread"): IDENTIFIED,
    ("POST", "/api/v1/conversations"): IDENTIFIED,
    ("GET", "/api/v1/rooms/{room_id}/messages"): IDENTIFIED,
    ("POST", "/api/v1/rooms/{room_id}/messages"): IDENTIFIED,
    ("POST", "/api/v1/uploads"): IDENTIFIED,
    ("GET", "/api/v1/uploads/{upload_id}/content"): IDENTIFIED,  # uploader or room member
    ("GET", "/api/v1/uploads/{upload_id}/thumbnail"): IDENTIFIED,
    ("POST", "/api/v1/messages/preview"): IDENTIFIED,
    ("PATCH", "/api/v1/messages/{message_id}"): IDENTIFIED,  # own or admin: in the action
    ("DELETE", "/api/v1/messages/{message_id}"): IDENTIFIED,  # own or admin: in the action
    ("GET", "/api/v1/messages/{message_id}/history"): Policy.STAFF,
    ("GET", "/api/v1/rooms/{room_id}/export"): Policy.STAFF,  # members; admins any room
    ("GET", "/api/v1/search"): IDENTIFIED,  # only rooms the caller is in: in the action
    ("GET", "/api/v1/search/export"): Policy.STAFF,
    ("GET", "/api/v1/search/terms"): Policy.TRAINER_OR_ADMIN,
    ("POST", "/api/v1/search/terms"): Policy.TRAINER_OR_ADMIN,
    ("DELETE", "/api/v1/search/terms/{term_id}"): Policy.TRAINER_OR_ADMIN,
    ("GET", "/api/v1/audit"): Policy.ADMIN,
    ("GET", "/api/v1/admin/branches"): Policy.ADMIN,
    ("POST", "/api/v1/admin/branches"): Policy.ADMIN,
    ("PATCH", "/api/v1/admin/branches/{branch_id}"): Policy.ADMIN,
    ("GET", "/api/v1/admin/rooms"): Policy.ADMIN,
    ("POST", "/api/v1/admin/rooms"): Policy.ADMIN,
    ("PATCH", "/api/v1/admin/rooms/{room_id}"): Policy.ADMIN,
    ("GET", "/api/v1/admin/rooms/{room_id}/members"): Policy.ADMIN,
    ("POST", "/api/v1/admin/rooms/{room_id}/members"): Policy.ADMIN,
    ("DELETE", "/api/v1/admin/rooms/{room_id}/members/{user_id}"): Policy.ADMIN,
    ("GET", "/api/v1/admin/settings"): Policy.ADMIN,
    ("PUT", "/api/v1/admin/settings"): Policy.ADMIN,
    ("POST", "/api/v1/hooks"): Policy.ADMIN,
    ("GET", "/api/v1/hooks"): Policy.ADMIN,
    ("DELETE", "/api/v1/hooks/{hook_id}"): Policy.ADMIN,
    ("GET", "/api/v1/admin/bots"): Policy.ADMIN,
    ("POST", "/api/v1/admin/bots"): Policy.ADMIN,
    ("DELETE", "/api/v1/admin/bots/{bot_id}"): Policy.ADMIN,
    ("GET", "/api/v1/admin/outgoing-hooks"): Policy.ADMIN,
    ("POST", "/api/v1/admin/outgoing-hooks"): Policy.ADMIN,
    ("DELETE", "/api/v1/admin/outgoing-hooks/{hook_id}"): Policy.ADMIN,
    ("GET", "/api/v1/admin/users"): Policy.ADMIN,
    ("POST", "/api/v1/admin/users"): Policy.ADMIN,
    ("PATCH", "/api/v1/admin/users/{user_id}"): Policy.ADMIN,
    ("POST", "/api/v1/admin/users/{user_id}/deactivate"): Policy.ADMIN,
    ("POST", "/api/v1/admin/users/{user_id}/reactivate"): Policy.ADMIN,
    ("POST", "/api/v1/admin/users/{user_id}/password-reset"): Policy.ADMIN,
    ("POST", "/api/v1/admin/users/{user_id}/unlock"): Policy.ADMIN,
    ("GET", "/api/v1/admin/users/export.csv"): Policy.ADMIN,
    ("POST", "/api/v1/admin/users/import/preview"): Policy.ADMIN,
    ("POST", "/api/v1/admin/users/import"): Policy.ADMIN,
    ("GET", "/api/v1/admin/users/import/{import_id}"): Policy.ADMIN,
    ("GET", "/api/v1/admin/users/import/{import_id}/passwords.csv"): Policy.ADMIN,
    ("POST", "/hooks/{token}"): PUBLIC,  # the secret in the path is the credential
    ("GET", "/api/v1/portal"): IDENTIFIED,
    ("PUT", "/api/v1/portal/favourites"): IDENTIFIED,
    ("POST", "/api/v1/portal/{entry_id}/opened"): IDENTIFIED,
    ("GET", "/api/v1/admin/portal"): Policy.ADMIN,
    ("POST", "/api/v1/admin/portal"): Policy.ADMIN,
    ("PUT", "/api/v1/admin/portal/{entry_id}"): Policy.ADMIN,
    ("DELETE", "/api/v1/admin/portal/{entry_id}"): Policy.ADMIN,
    ("GET", "/portal/icons/{entry_id}"): IDENTIFIED,
    ("GET", "/portal"): IDENTIFIED,
    ("GET", "/admin/portal"): Policy.ADMIN,
    ("POST", "/api/v1/notices"): Policy.PUBLISHER,  # managers: their branch, in the action
    ("POST", "/api/v1/notices/{notice_id}/discussion"): IDENTIFIED,  # who reads it: in the action
    ("DELETE", "/api/v1/notices/{notice_id}"): Policy.PUBLISHER,  # author or admin: action
    ("GET", "/api/v1/rooms/{room_id}/questions"): IDENTIFIED,  # members only: in the action
    ("POST", "/api/v1/messages/{message_id}/question"): IDENTIFIED,  # author or trainer: action
    ("DELETE", "/api/v1/messages/{message_id}/question"): IDENTIFIED,  # author or trainer: action
    ("POST", "/api/v1/messages/{message_id}/question/answer"): Policy.TRAINER_OR_ADMIN,
    ("GET", "/api/v1/faq"): IDENTIFIED,
    ("GET", "/api/v1/faq/suggestions"): IDENTIFIED,
    ("GET", "/api/v1/faq/{entry_id}"): IDENTIFIED,
    ("POST", "/api/v1/faq"): Policy.TRAINER_OR_ADMIN,
    ("PUT", "/api/v1/faq/{entry_id}"): Policy.TRAINER_OR_ADMIN,
    ("DELETE", "/api/v1/faq/{entry_id}"): Policy.TRAINER_OR_ADMIN,
    ("GET", "/api/v1/notices"): IDENTIFIED,
    ("GET", "/api/v1/notices/{notice_id}"): IDENTIFIED,  # audience or overseers: in the action
    ("POST", "/api/v1/notices/{notice_id}/acknowledgement"): IDENTIFIED,  # its audience
    ("POST", "/api/v1/notices/{notice_id}/revisions"): Policy.PUBLISHER,  # author or admin
    ("GET", "/api/v1/notices/{notice_id}/compliance"): Policy.PUBLISHER,  # managers: branch
    ("GET", "/api/v1/notices/{notice_id}/compliance/export"): Policy.PUBLISHER,
    ("POST", "/api/v1/notices/{notice_id}/reminders"): Policy.PUBLISHER,  # overdue only
    ("GET", "/api/v1/link-preview"): IDENTIFIED,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/account/password"): LOGGED_IN,
    ("POST", "/account/password"): LOGGED_IN,
    ("GET", "/account/tokens"): IDENTIFIED,
    ("POST", "/account/tokens"): IDENTIFIED,
    ("POST", "/account/tokens/{token_id}/revoke"): IDENTIFIED,
    ("POST", "/account/language"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/rooms/{room_id}"): IDENTIFIED,
    ("POST", "/rooms/{room_id}/join"): IDENTIFIED,
    ("GET", "/inbox"): IDENTIFIED,
    ("GET", "/search"): IDENTIFIED,
    ("GET", "/search/terms"): Policy.TRAINER_OR_ADMIN,
    ("POST", "/search/terms"): Policy.TRAINER_OR_ADMIN,
    ("POST", "/search/terms/{term_id}/remove"): Policy.TRAINER_OR_ADMIN,
    ("GET", "/notices"): IDENTIFIED,
    ("GET", "/notices/new"): Policy.PUBLISHER,
    ("GET", "/notices/{notice_id}/revise"): Policy.PUBLISHER,  # author or admin: in the action
    ("GET", "/notices/{notice_id}"): IDENTIFIED,  # audience or overseers: in the action
    ("POST", "/notices/{notice_id}/discussion"): IDENTIFIED,  # who reads it: in the action
    ("GET", "/notices/discussion/{room_id}"): IDENTIFIED,  # the notice page checks
    ("GET", "/faq"): IDENTIFIED,
    ("POST", "/faq"): Policy.TRAINER_OR_ADMIN,
    ("GET", "/faq/{entry_id}"): IDENTIFIED,
    ("POST", "/faq/{entry_id}"): Policy.TRAINER_OR_ADMIN,
    ("POST", "/faq/{entry_id}/delete"): Policy.TRAINER_OR_ADMIN,
    ("GET", "/notices/{notice_id}/compliance"): Policy.PUBLISHER,  # managers: their branch
    ("GET", "/admin/audit"): Policy.ADMIN,
    ("GET", "/admin"): Policy.ADMIN,
    ("GET", "/admin/integrations"): Policy.ADMIN,
    ("GET", "/site/logo"): PUBLIC,  # the logo set in the console, shown on the login page
    ("GET", "/admin/branches"): Policy.ADMIN,
    ("POST", "/admin/branches"): Policy.ADMIN,
    ("POST", "/admin/branches/{branch_id}"): Policy.ADMIN,
    ("POST", "/admin/rooms"): Policy.ADMIN,
    ("GET", "/admin/rooms/{room_id}"): Policy.ADMIN,
    ("POST", "/admin/rooms/{room_id}"): Policy.ADMIN,
    ("POST", "/admin/rooms/{room_id}/members"): Policy.ADMIN,
    ("POST", "/admin/rooms/{room_id}/members/{user_id}/remove"): Policy.ADMIN,
    ("GET", "/admin/settings"): Policy.ADMIN,
    ("POST", "/admin/settings"): Policy.ADMIN,
    ("GET", "/admin/users"): Policy.ADMIN,
    ("GET", "/admin/users/import"): Policy.ADMIN,
    ("GET", "/api/v1/docs"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,  # as before: keep it off the public network at the proxy
}
# Not FastAPI routes, so they cannot carry a policy dependency; both are public.
EXEMPT = {f"{API_PREFIX}/openapi.json": Route, "/static": Mount}
ROLE_HOLDERS = {
    Role.clerk: "wangfang",
    Role.trainer: "zhangwei",
    Role.manager: "zhaomin",
    Role.admin: "chengang",
}


def declared_policies(app: FastAPI) -> dict[tuple[str, str], Policy]:
    declared = {}
    for route in iter_route_contexts(app.routes):  # included routers, flattened
        if not isinstance(route.original_route, APIRoute):
            assert isinstance(route.route, EXEMPT.get(route.path, APIRoute)), route.path
            continue
        found = {policy_of(dependency.call) for dependency in route.dependant.dependencies}
        policies = found - {None}
        assert len(policies) == 1, f"{route.path} declares {policies or 'no policy'}"
        for method in route.methods:
            declared[method, route.path] = next(iter(policies))
    return declared


def test_every_route_declares_the_policy_listed_here(
    make_settings: Callable[..., Settings],
) -> None:
    assert declared_policies(create_app(make_settings())) == POLICIES


def test_every_admin_console_route_is_for_administrators_only(
    make_settings: Callable[..., Settings],
) -> None:
    """Whatever is added under /admin or /api/v1/admin, clerks, trainers and managers get
    403 from it (the test below calls each route as each of them)."""
    declared = declared_policies(create_app(make_settings()))
    console = {
        route: policy
        for route, policy in declared.items()
        if route[1] == "/admin" or route[1].startswith(("/admin/", f"{API_PREFIX}/admin/"))
    }
    assert ("GET", "/admin/audit") in console
    assert {route for route, policy in console.items() if policy != Policy.ADMIN} == set()


def request_path(path: str, cast: Cast) -> str:
    """The route's path with a real id in each parameter (a refusal must not be a 404)."""
    return re.sub(r"\{\w+\}", str(cast.company_room_id), path)


async def call(http: httpx.AsyncClient, method: str, path: str, csrf: str = "") -> httpx.Response:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return await http.request(method, path, headers=headers)


async def one_time_client(server, services: Services) -> Client:
    """A user logged in with a one-time password they have not replaced yet."""
    async with services.transaction() as unit:
        branch = await get_branch_named(unit, CHENGBEI)
        _, one_time = await add_user(
            unit, username="xinren", display_name="新人", branch=branch, role=Role.clerk
        )
    client = Client(server.url)
    assert one_time is not None and (await client.log_in("xinren", one_time)).status_code == 200
    return client


def assert_refused(response: httpx.Response, status: int, page_target: str) -> None:
    """The API answers ``status`` with an error; a page redirects to ``page_target``."""
    where = (response.request.method, response.request.url.path)
    if response.request.url.path.startswith(API_PREFIX):
        assert response.status_code == status, (where, response.status_code, response.text)
        assert response.json()["error"], where
    else:
        assert response.status_code == 303, (where, response.status_code)
        assert response.headers["location"] == page_target, where


async def test_every_route_refuses_the_callers_its_policy_refuses(
    server, login, services: Services, cast: Cast
) -> None:
    anonymous = httpx.AsyncClient(base_url=server.url)
    one_time = await one_time_client(server, services)
    holders = {role: await login(username) for role, username in ROLE_HOLDERS.items()}
    try:
        for (method, route_path), policy in POLICIES.items():
            path = request_path(route_path, cast)
            answer = await call(anonymous, method, path)
            if policy == PUBLIC:
                assert answer.status_code != 401, (method, path)
                assert not answer.headers.get("location", "").startswith("/login?"), path
                continue
            assert_refused(answer, 401, f"/login?next={quote(path)}")
            if policy == LOGGED_IN:
                continue
            answer = await call(one_time.http, method, path, one_time.csrf_token)
            assert_refused(answer, 403, "/account/password")
            for role, holder in holders.items():
                if not allows(policy, role):
                    answer = await call(holder.http, method, path, holder.csrf_token)
                    assert answer.status_code == 403, (method, path, role, answer.text)
    finally:
        await anonymous.aclose()
        await one_time.close()
