"""Logging in, sessions, throttling, passwords and API tokens, against the live server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import func, select, update

from counterline.accounts.actions import create_api_token, get_user_named
from counterline.accounts.models import Session, User
from counterline.bootstrap import ensure_first_admin
from counterline.config import Settings
from counterline.db import utcnow
from counterline.migrate import upgrade
from counterline.services import Services
from tests.cast import PASSWORD, Cast
from tests.support.clients import Client, open_stream
from tests.support.pages import csrf_token_in

NEW_PASSWORD = "a-new-pass-2026"


def cookie_header(response: httpx.Response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if "counterline_session=" in c]
    assert len(cookies) == 1, cookies
    return cookies[0]


def with_cookie(base_url: str, cookie: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, cookies={"counterline_session": cookie})


async def attempt(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/session", json={"username": username, "password": password})


async def sessions_of(services: Services, user_id: int) -> int:
    async with services.reading() as unit:
        query = select(func.count()).select_from(Session).where(Session.user_id == user_id)
        return await unit.session.scalar(query) or 0


async def test_login_sets_an_httponly_lax_session_cookie_and_returns_the_user(
    server, cast: Cast
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await attempt(http, "wangfang", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == cast["wangfang"].id
    assert body["user"]["display_name"] == "王芳"
    assert body["user"]["branch_name"] == "城北营业厅"
    assert body["csrf_token"]
    assert body["must_change_password"] is False
    attributes = [part.strip().lower() for part in cookie_header(response).split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes


async def test_session_cookie_is_secure_when_settings_ask_for_it(start_server) -> None:
    live = start_server(secure_cookies=True)
    async with httpx.AsyncClient(base_url=live.url) as http:
        response = await attempt(http, "wangfang", PASSWORD)
    assert response.status_code == 200
    attributes = [part.strip().lower() for part in cookie_header(response).split(";")]
    assert "secure" in attributes
    assert "httponly" in attributes


async def test_wrong_username_and_wrong_password_get_the_same_answer(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        unknown = await attempt(http, "nobody", PASSWORD)
        wrong = await attempt(http, "wangfang", "not-the-password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert set(unknown.json()) == {"error"}
    assert unknown.json()["error"]
    assert "counterline_session" not in unknown.headers.get("set-cookie", "")


# Throttling failed logins: tests/test_login_throttling.py


async def test_login_rotates_the_session_id_and_ends_the_old_one(server) -> None:
    client = Client(server.url)
    try:
        assert (await client.log_in("wangfang")).status_code == 200
        first = client.session_cookie
        assert (await client.log_in("wangfang")).status_code == 200
        second = client.session_cookie
        assert first and second and first != second
        async with with_cookie(server.url, first) as other:
            old = await other.get("/api/v1/session")
        async with with_cookie(server.url, second) as other:
            new = await other.get("/api/v1/session")
        assert old.status_code == 401
        assert new.status_code == 200
    finally:
        await client.close()


async def test_logout_destroys_the_session_on_the_server(login, server, services, cast) -> None:
    wang = await login("wangfang")
    cookie = wang.session_cookie
    assert await sessions_of(services, cast["wangfang"].id) == 1
    response = await wang.http.delete("/api/v1/session", headers={"X-CSRF-Token": wang.csrf_token})
    assert response.status_code == 204
    assert await sessions_of(services, cast["wangfang"].id) == 0
    async with with_cookie(server.url, cookie) as other:
        replay = await other.get("/api/v1/rooms")
    assert replay.status_code == 401
    assert replay.json()["error"]


async def test_idle_session_expires(login, server, services, cast: Cast) -> None:
    wang = await login("wangfang")
    assert (await wang.http.get("/api/v1/session")).status_code == 200
    async with services.transaction() as unit:
        await unit.session.execute(
            update(Session)
            .where(Session.user_id == cast["wangfang"].id)
            .values(last_used_at=utcnow() - timedelta(hours=12, minutes=1))
        )
    # As if those 12 hours had passed: the server's few seconds of cached sessions too.
    server.services.identities.forget_user(cast["wangfang"].id)
    assert (await wang.http.get("/api/v1/session")).status_code == 401


async def test_session_expires_after_its_absolute_lifetime_even_when_in_use(
    login, services, cast: Cast
) -> None:
    wang = await login("wangfang")
    async with services.transaction() as unit:
        await unit.session.execute(
            update(Session)
            .where(Session.user_id == cast["wangfang"].id)
            .values(created_at=utcnow() - timedelta(days=7, minutes=1), last_used_at=utcnow())
        )
    assert (await wang.http.get("/api/v1/session")).status_code == 401


async def test_expiry_follows_the_configured_limits(start_server, sign_in, services, cast) -> None:
    live = start_server(session_idle_minutes=5, session_absolute_hours=1)
    wang = await sign_in(live, "wangfang")
    li = await sign_in(live, "lina")
    async with services.transaction() as unit:
        await unit.session.execute(
            update(Session)
            .where(Session.user_id == cast["wangfang"].id)
            .values(last_used_at=utcnow() - timedelta(minutes=6))
        )
        await unit.session.execute(
            update(Session)
            .where(Session.user_id == cast["lina"].id)
            .values(created_at=utcnow() - timedelta(minutes=61))
        )
    assert (await wang.http.get("/api/v1/session")).status_code == 401
    assert (await li.http.get("/api/v1/session")).status_code == 401


async def test_inactive_user_cannot_log_in_or_use_an_old_session(
    login, server, services, cast: Cast
) -> None:
    wang = await login("wangfang")
    async with services.transaction() as unit:
        await unit.session.execute(
            update(User).where(User.id == cast["wangfang"].id).values(active=False)
        )
    assert (await wang.http.get("/api/v1/rooms")).status_code == 401
    async with httpx.AsyncClient(base_url=server.url) as http:
        refused = await attempt(http, "wangfang", PASSWORD)
        unknown = await attempt(http, "nobody", PASSWORD)
    assert refused.status_code == 401
    assert refused.json() == unknown.json()


async def test_first_start_admin_must_choose_a_new_password_in_the_web_ui(
    start_server, empty_database_url: str, tmp_path: Path
) -> None:
    services = Services.from_settings(Settings(data_dir=tmp_path, database_url=empty_database_url))
    try:
        await upgrade(services.database)
        admin = await ensure_first_admin(services)
        assert await ensure_first_admin(services) is None
    finally:
        await services.database.dispose()
    assert admin is not None
    live = start_server(database_url=empty_database_url)
    async with httpx.AsyncClient(base_url=live.url) as http:
        form = await http.get("/login")
        logged_in = await http.post(
            "/login",
            data={
                "username": admin.username,
                "password": admin.password,
                "csrf_token": csrf_token_in(form),
                "next": "/",
            },
        )
        assert logged_in.status_code == 303
        assert logged_in.headers["location"] == "/account/password"
        session = (await http.get("/api/v1/session")).json()
        assert session["must_change_password"] is True
        home = await http.get("/")
        assert home.status_code == 303
        room = await http.get(home.headers["location"])
        assert room.status_code == 303
        assert room.headers["location"] == "/account/password"

        page = await http.get("/account/password")
        assert page.status_code == 200
        changed = await http.post(
            "/account/password",
            data={
                "current_password": admin.password,
                "new_password": NEW_PASSWORD,
                "repeat_password": NEW_PASSWORD,
                "csrf_token": csrf_token_in(page),
            },
        )
        assert changed.status_code == 303
        assert (await http.get("/api/v1/session")).json()["must_change_password"] is False
        room = await http.get(home.headers["location"])
        assert room.status_code == 200
        old = await attempt(http, admin.username, admin.password)
        new = await attempt(http, admin.username, NEW_PASSWORD)
    assert old.status_code == 401
    assert new.status_code == 200


async def test_password_change_keeps_this_session_and_ends_the_others(login, server) -> None:
    here = await login("wangfang")
    elsewhere = await login("wangfang")
    response = await here.http.put(
        "/api/v1/session/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": here.csrf_token},
    )
    assert response.status_code == 204
    assert (await here.http.get("/api/v1/session")).status_code == 200
    assert (await elsewhere.http.get("/api/v1/session")).status_code == 401
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await attempt(http, "wangfang", PASSWORD)).status_code == 401
        assert (await attempt(http, "wangfang", NEW_PASSWORD)).status_code == 200


async def test_password_change_needs_the_current_password(login) -> None:
    wang = await login("wangfang")
    response = await wang.http.put(
        "/api/v1/session/password",
        json={"current_password": "wrong-one-1", "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert response.status_code == 400
    assert response.json()["error"]
    too_short = await wang.http.put(
        "/api/v1/session/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert too_short.status_code == 400
    assert too_short.json()["error"]


async def issue_token(services: Services, username: str) -> str:
    async with services.transaction() as unit:
        secret, _ = await create_api_token(unit, await get_user_named(unit, username))
        return secret


async def test_bearer_token_works_on_the_api_without_a_csrf_token(
    server, services, cast: Cast
) -> None:
    token = await issue_token(services, "wangfang")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        rooms = await http.get("/api/v1/rooms")
        posted = await http.post(
            f"/api/v1/rooms/{cast.company_room_id}/messages",
            json={"body": "从脚本发的", "client_id": "token-client-1"},
        )
        who = await http.get("/api/v1/session")
    assert rooms.status_code == 200
    assert posted.status_code == 201, posted.text
    assert posted.json()["author"]["username"] == "wangfang"
    assert who.status_code == 200
    assert who.json()["user"]["username"] == "wangfang"
    assert who.json()["csrf_token"] is None


async def test_bearer_token_opens_the_stream(server, services) -> None:
    token = await issue_token(services, "lina")
    stream = await open_stream(server.ws_url, token=token)
    try:
        ready = await stream.next("ready")
        assert ready["type"] == "ready"
    finally:
        await stream.close()


async def test_unknown_bearer_token_is_refused(server) -> None:
    headers = {"Authorization": "Bearer cl_not-a-real-token"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        response = await http.get("/api/v1/rooms")
    assert response.status_code == 401
    assert response.json()["error"]
    with pytest.raises(websockets.exceptions.InvalidStatus):
        await open_stream(server.ws_url, token="cl_not-a-real-token")
