"""Hostile input and cross-site requests: SQL injection, CSRF, origins, headers, HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest
import websockets
from sqlalchemy import select

from counterline.accounts.actions import get_branch_named
from counterline.accounts.models import Role, User
from counterline.messages.models import Message
from counterline.people.actions import add_user
from counterline.rooms.models import Room
from counterline.services import Services
from tests.cast import CHENGBEI, PASSWORD, Cast
from tests.support.clients import open_stream
from tests.support.pages import csrf_token_in
from tests.support.rows import count_rows

INJECTIONS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE users; --",
    '" OR ""="',
    "1; DELETE FROM messages",
    "admin'/*",
    "x' UNION SELECT username, password_hash FROM users --",
]
FOREIGN_ORIGIN = "http://evil.example"


class Elements(HTMLParser):
    """The elements and attributes of an HTML fragment, as a browser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


async def test_sql_injection_in_login_fields_is_just_a_wrong_login(
    server, services: Services, cast: Cast
) -> None:
    accounts = list(cast.people)
    async with httpx.AsyncClient(base_url=server.url) as http:
        for number, injection in enumerate(INJECTIONS):
            as_username = await http.post(
                "/api/v1/session", json={"username": injection, "password": injection}
            )
            as_password = await http.post(
                "/api/v1/session",
                json={"username": accounts[number % len(accounts)], "password": injection},
            )
            assert as_username.status_code == 401, injection
            assert as_password.status_code == 401, injection
            assert as_username.json() == as_password.json()
        still = await http.post("/api/v1/session", json={"username": "lina", "password": PASSWORD})
    assert still.status_code == 200
    assert await count_rows(services, User) == 6


async def test_sql_injection_in_history_filters_is_rejected_as_invalid(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    await wang.post_message(cast.company_room_id, "还在吗", "client-keep-1")
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"
    for injection in INJECTIONS:
        for name in ("before", "after", "day", "limit"):
            response = await wang.http.get(url, params={name: injection})
            assert response.status_code == 422, (name, injection, response.text)
            assert response.json()["error"]
    history = (await wang.http.get(url)).json()["messages"]
    assert [message["body"] for message in history] == ["还在吗"]
    assert await count_rows(services, User) == 6


async def test_sql_injection_in_message_bodies_is_stored_verbatim(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    for number, injection in enumerate(INJECTIONS):
        response = await wang.post_message(cast.company_room_id, injection, f"inject-{number:04}")
        assert response.status_code == 201, response.text
        assert response.json()["body"] == injection
    page = await wang.http.get(f"/api/v1/rooms/{cast.company_room_id}/messages")
    assert [message["body"] for message in page.json()["messages"]] == INJECTIONS
    assert await count_rows(services, Message) == len(INJECTIONS)
    assert await count_rows(services, User) == 6
    async with services.reading() as unit:
        stored = list(await unit.session.scalars(select(Message.body).order_by(Message.id)))
    assert stored == INJECTIONS


async def test_sql_injection_in_room_names_is_stored_verbatim(login, services: Services) -> None:
    zhang = await login("zhangwei")
    rooms_before = await count_rows(services, Room)
    for injection in INJECTIONS:
        response = await zhang.http.post(
            "/api/v1/rooms",
            json={"name": injection, "visibility": "public"},
            headers={"X-CSRF-Token": zhang.csrf_token},
        )
        assert response.status_code == 201, response.text
        assert response.json()["name"] == injection
    names = [room["name"] for room in (await zhang.http.get("/api/v1/rooms")).json()["rooms"]]
    assert sorted(name for name in names if name in INJECTIONS) == sorted(INJECTIONS)
    assert await count_rows(services, Room) == rooms_before + len(INJECTIONS)
    assert await count_rows(services, User) == 6


async def test_sql_injection_in_display_names_is_shown_verbatim(
    login, services: Services, cast: Cast
) -> None:
    async with services.transaction() as unit:
        branch = await get_branch_named(unit, CHENGBEI)
        await add_user(
            unit,
            username="guest",
            display_name=INJECTIONS[2],
            branch=branch,
            role=Role.clerk,
            password=PASSWORD,
        )
        password_hash = await unit.session.scalar(
            select(User.password_hash).where(User.username == "guest")
        )
        for number, injection in enumerate(INJECTIONS):
            unit.session.add(
                User(
                    username=f"guest{number}",
                    display_name=injection,
                    branch_id=branch.id,
                    role=Role.clerk,
                    password_hash=password_hash,
                )
            )
    guest = await login("guest")
    assert guest.user["display_name"] == INJECTIONS[2]
    users = (await guest.http.get("/api/v1/users")).json()["users"]
    shown = {user["username"]: user["display_name"] for user in users}
    for number, injection in enumerate(INJECTIONS):
        assert shown[f"guest{number}"] == injection
    assert await count_rows(services, User) == 7 + len(INJECTIONS)


async def test_cookie_post_with_a_form_content_type_and_no_csrf_token_is_refused(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data"):
        response = await wang.http.post(
            url,
            content=b'{"body": "forged", "client_id": "forged-0001"}',
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 403, (content_type, response.text)
        assert response.json()["error"]
    assert await count_rows(services, Message) == 0


async def test_cookie_post_with_a_wrong_csrf_token_is_refused(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"
    for token in ("wrong-token", li.csrf_token):
        response = await wang.http.post(
            url,
            json={"body": "forged", "client_id": "forged-0002"},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 403
        assert response.json()["error"]
    refused = await wang.http.delete("/api/v1/session", headers={"X-CSRF-Token": "wrong-token"})
    assert refused.status_code == 403
    assert (await wang.http.get("/api/v1/session")).status_code == 200
    assert await count_rows(services, Message) == 0


async def test_cookie_post_from_a_foreign_origin_is_refused_even_with_the_token(
    login, server, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    response = await wang.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        json={"body": "forged", "client_id": "forged-0003"},
        headers={"X-CSRF-Token": wang.csrf_token, "Origin": FOREIGN_ORIGIN},
    )
    assert response.status_code == 403
    assert response.json()["error"]
    same_site = await wang.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        json={"body": "同源", "client_id": "same-origin-1"},
        headers={"X-CSRF-Token": wang.csrf_token, "Origin": server.url},
    )
    assert same_site.status_code == 201, same_site.text
    assert await count_rows(services, Message) == 1


async def test_logout_form_without_a_valid_token_is_refused(login) -> None:
    wang = await login("wangfang")
    for data in ({}, {"csrf_token": "wrong-token"}):
        response = await wang.http.post("/logout", data=data)
        assert response.status_code == 403
    assert (await wang.http.get("/api/v1/session")).status_code == 200
    page = await wang.http.get("/account/password")
    response = await wang.http.post("/logout", data={"csrf_token": csrf_token_in(page)})
    assert response.status_code == 303
    assert (await wang.http.get("/api/v1/session")).status_code == 401


async def test_password_form_without_a_valid_token_is_refused(login, server) -> None:
    wang = await login("wangfang")
    change = {
        "current_password": PASSWORD,
        "new_password": "forged-pass-1",
        "repeat_password": "forged-pass-1",
    }
    for extra in ({}, {"csrf_token": "wrong-token"}):
        response = await wang.http.post("/account/password", data={**change, **extra})
        assert response.status_code == 403
    foreign = await wang.http.post(
        "/account/password",
        data={**change, "csrf_token": wang.csrf_token},
        headers={"Origin": FOREIGN_ORIGIN},
    )
    assert foreign.status_code == 403
    async with httpx.AsyncClient(base_url=server.url) as http:
        still = await http.post(
            "/api/v1/session", json={"username": "wangfang", "password": PASSWORD}
        )
    assert still.status_code == 200


async def test_login_form_without_a_valid_token_is_refused(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        form = await http.get("/login")
        token = csrf_token_in(form)
        credentials = {"username": "wangfang", "password": PASSWORD, "next": "/"}
        for extra in ({}, {"csrf_token": "wrong-token"}):
            response = await http.post("/login", data={**credentials, **extra})
            assert response.status_code == 403
            assert "counterline_session" not in response.headers.get("set-cookie", "")
        accepted = await http.post("/login", data={**credentials, "csrf_token": token})
    assert accepted.status_code == 303
    assert "counterline_session=" in accepted.headers.get("set-cookie", "")


async def test_stream_refuses_a_foreign_origin(login, server) -> None:
    wang = await login("wangfang")
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await open_stream(server.ws_url, cookie=wang.session_cookie, origin=FOREIGN_ORIGIN)
    assert refused.value.response.status_code == 403
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie, origin=server.url)
    try:
        assert (await stream.next("ready"))["type"] == "ready"
    finally:
        await stream.close()


async def test_stream_refuses_a_missing_or_dead_session(server) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus) as anonymous:
        await open_stream(server.ws_url)
    assert anonymous.value.response.status_code == 403
    with pytest.raises(websockets.exceptions.InvalidStatus) as forged:
        await open_stream(server.ws_url, cookie="not-a-session")
    assert forged.value.response.status_code == 403


@pytest.mark.parametrize("path", ["/login", "/api/v1/session", "/api/v1/openapi.json"])
async def test_security_headers_are_on_pages_and_api(server, path: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get(path)
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in response.headers["content-security-policy"].split(";")
        if directive.strip()
    }
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_logged_in_pages_carry_the_security_headers(login, cast: Cast) -> None:
    wang = await login("wangfang")
    response = await wang.http.get(f"/rooms/{cast.company_room_id}")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text


async def test_script_and_javascript_links_in_messages_are_rendered_harmless(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    hostile = [
        "<script>alert(1)</script>",
        "[点我](javascript:alert(1))",
        '<a href="javascript:alert(1)">点我</a>',
        '<img src=x onerror="alert(1)">',
        "[ok](https://example.com/guide)",
    ]
    rendered = []
    for number, body in enumerate(hostile):
        response = await wang.post_message(cast.company_room_id, body, f"hostile-{number:03}")
        assert response.status_code == 201
        assert response.json()["body"] == body
        rendered.append(response.json()["body_html"])
    for html in rendered:
        for tag, attributes in Elements(html).found:
            assert tag in {"p", "a", "br", "em", "strong", "code"}, html
            assert not any(name.startswith("on") for name in attributes), html
            href = (attributes.get("href") or "").strip().lower()
            assert not href.startswith("javascript"), html
    assert "&lt;script&gt;" in rendered[0]
    assert '<a href="https://example.com/guide"' in rendered[4]
    assert 'rel="noopener noreferrer nofollow"' in rendered[4]
    history = (await wang.http.get(f"/api/v1/rooms/{cast.company_room_id}/messages")).json()
    assert [message["body_html"] for message in history["messages"]] == rendered
