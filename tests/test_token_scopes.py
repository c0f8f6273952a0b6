"""Scoped API tokens: made over the API with their scopes and an optional expiry, the
secret answered once and stored hashed; every request made with a token is held to the
scope its method and path need (read: GET and the stream; post: every other method;
admin: the admin API), so a read-only token gets 403 on any write. Against the live
server."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, text, update

from counterline.accounts.models import ApiToken
from counterline.audit.models import AuditEntry
from counterline.db import Database, create_engine, utcnow
from counterline.migrate import upgrade
from counterline.services import Services
from tests.cast import Cast
from tests.support.clients import Client, open_stream
from tests.support.pages import csrf_token_in

MESSAGE = {"body": "今天几点开门？", "client_id": str(uuid.uuid4())}


async def make_token(client: Client, **fields: Any) -> dict[str, Any]:
    response = await client.http.post(
        "/api/v1/account/tokens", json=fields, headers={"X-CSRF-Token": client.csrf_token}
    )
    assert response.status_code == 201, response.text
    return response.json()


def with_token(server: Any, secret: str, language: str = "en") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": language}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=20)


async def audited(services: Services, action: str) -> list[AuditEntry]:
    async with services.reading() as unit:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(await unit.session.scalars(query))


async def test_a_read_only_token_reads_and_streams_but_every_write_is_refused_with_403(
    login, server, cast: Cast
) -> None:
    clerk = await login("wangfang")
    made = await make_token(clerk, label="值班看板", scopes=["read"])
    assert made["scopes"] == ["read"]
    room_id = cast.branch_room_ids["城北营业厅"]
    async with with_token(server, made["token"]) as http:
        assert (await http.get(f"/api/v1/rooms/{room_id}/messages")).status_code == 200
        assert (await http.get("/api/v1/inbox")).status_code == 200
        refused = [
            await http.post(f"/api/v1/rooms/{room_id}/messages", json=MESSAGE),
            await http.post(f"/api/v1/rooms/{room_id}/read", json={"up_to": 1}),
            await http.put("/api/v1/account/notifications", json={"level": "all"}),
            await http.delete("/api/v1/account/tokens/1"),
            await http.post("/api/v1/account/tokens", json={"label": "更强的"}),
        ]
        for response in refused:
            assert response.status_code == 403, response.text
            assert response.json()["error"] == (
                "This API token may not do this: it needs the scope “post”."
            )
        # A POST that changes nothing is a read.
        preview = await http.post("/api/v1/messages/preview", json={"body": "**好**"})
        assert preview.status_code == 200, preview.text
    stream = await open_stream(server.ws_url, token=made["token"])
    try:
        assert (await stream.next("ready"))["type"] == "ready"
    finally:
        await stream.close()


async def test_a_post_only_token_posts_but_cannot_read(login, server, cast: Cast) -> None:
    clerk = await login("wangfang")
    made = await make_token(clerk, scopes=["post"])
    room_id = cast.branch_room_ids["城北营业厅"]
    async with with_token(server, made["token"]) as http:
        posted = await http.post(f"/api/v1/rooms/{room_id}/messages", json=MESSAGE)
        assert posted.status_code == 201, posted.text
        read = await http.get(f"/api/v1/rooms/{room_id}/messages")
        assert read.status_code == 403
        assert "“read”" in read.json()["error"]


async def test_admin_routes_need_the_admin_scope_and_only_administrators_may_hold_it(
    login, server
) -> None:
    admin = await login("chengang")
    everyday = await make_token(admin, scopes=["read", "post"])
    full = await make_token(admin)  # default: every scope of the role
    assert full["scopes"] == ["read", "post", "admin"]
    async with with_token(server, everyday["token"]) as http:
        audit = await http.get("/api/v1/audit")
        assert audit.status_code == 403
        assert "“admin”" in audit.json()["error"]
        hooks = await http.get("/api/v1/hooks")  # an ADMIN route outside /api/v1/admin/
        assert hooks.status_code == 403
    async with with_token(server, full["token"]) as http:
        assert (await http.get("/api/v1/audit")).status_code == 200
        assert (await http.get("/api/v1/hooks")).status_code == 200
    clerk = await login("wangfang")
    refused = await clerk.http.post(
        "/api/v1/account/tokens",
        json={"scopes": ["read", "admin"]},
        headers={"X-CSRF-Token": clerk.csrf_token, "Accept-Language": "en"},
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "Only administrators may hold tokens with the scope “admin”."
    assert (await make_token(clerk))["scopes"] == ["read", "post"]


async def test_a_token_cannot_make_a_stronger_one(login, server) -> None:
    admin = await login("chengang")
    everyday = await make_token(admin, scopes=["read", "post"])
    async with with_token(server, everyday["token"]) as http:
        stronger = await http.post("/api/v1/account/tokens", json={"scopes": ["admin"]})
        assert stronger.status_code == 403, stronger.text
        same = await http.post("/api/v1/account/tokens", json={"label": "副本"})
        assert same.status_code == 201, same.text
        assert same.json()["scopes"] == ["read", "post"]


async def test_the_secret_is_answered_once_stored_hashed_and_creating_and_revoking_are_audited(
    login, server, services: Services
) -> None:
    clerk = await login("wangfang")
    made = await make_token(clerk, label="排队机", scopes=["read", "post"], expires_in_days=30)
    listed = (await clerk.http.get("/api/v1/account/tokens")).json()["tokens"]
    [shown] = [token for token in listed if token["id"] == made["id"]]
    assert "token" not in shown and shown["label"] == "排队机"
    assert shown["expires_at"] is not None and shown["last_used_at"] is None
    async with services.reading() as unit:
        row = await unit.session.get(ApiToken, made["id"])
        assert row is not None
        assert row.token_hash == hashlib.sha256(made["token"].encode()).hexdigest()
        assert made["token"] not in (row.token_hash, row.label, row.scopes)
    async with with_token(server, made["token"]) as http:
        assert (await http.get("/api/v1/session")).status_code == 200
    listed = (await clerk.http.get("/api/v1/account/tokens")).json()["tokens"]
    assert [t["last_used_at"] for t in listed if t["id"] == made["id"]] != [None]
    [created] = [e for e in await audited(services, "token.created") if e.details["label"]]
    assert created.details["token_id"] == made["id"]
    assert created.details["scopes"] == "read post"
    assert created.actor_id == clerk.user["id"]
    revoked = await clerk.http.delete(
        f"/api/v1/account/tokens/{made['id']}", headers={"X-CSRF-Token": clerk.csrf_token}
    )
    assert revoked.status_code == 204
    [entry] = await audited(services, "token.revoked")
    assert entry.details["token_id"] == made["id"] and entry.actor_id == clerk.user["id"]
    async with with_token(server, made["token"]) as http:
        assert (await http.get("/api/v1/session")).status_code == 401


async def test_an_expired_token_stops_working(login, server, services: Services) -> None:
    clerk = await login("wangfang")
    made = await make_token(clerk, expires_in_days=1)
    async with services.transaction() as unit:
        await unit.session.execute(
            update(ApiToken)
            .where(ApiToken.id == made["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    async with with_token(server, made["token"]) as http:
        assert (await http.get("/api/v1/session")).status_code == 401


async def test_bad_token_requests_get_400_or_422_not_a_token(login) -> None:
    clerk = await login("wangfang")
    headers = {"X-CSRF-Token": clerk.csrf_token, "Accept-Language": "en"}
    for body, status in [
        ({"scopes": []}, 422),
        ({"scopes": ["write"]}, 422),
        ({"scopes": ["read", "read", "read", "read"]}, 422),
        ({"expires_in_days": 0}, 422),
        ({"expires_in_days": 10**20}, 422),
        ({"label": "x" * 101}, 400),
        ({"label": " " + "x" * 100}, 400),  # 101 as written: the schema's maxLength
        ({"label": "x" * 1001}, 422),
    ]:
        response = await clerk.http.post("/api/v1/account/tokens", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]
    tokens = (await clerk.http.get("/api/v1/account/tokens")).json()["tokens"]
    assert tokens == []


async def test_the_tokens_page_makes_shows_once_lists_and_revokes(
    login, server, services: Services
) -> None:
    clerk = await login("wangfang")
    page = await clerk.http.get("/account/tokens")
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    assert 'value="admin"' not in page.text  # a clerk is not offered the admin scope
    form = {"csrf_token": csrf_token_in(page), "label": "叫号屏", "scope": ["read"]}
    made = await clerk.http.post("/account/tokens", data={**form, "expires_in_days": "30"})
    assert made.status_code == 200, made.text
    found = re.search(r'id="token-secret" type="text" readonly value="(cl_[^"]+)"', made.text)
    assert found, made.text
    secret = found.group(1)
    async with with_token(server, secret) as http:
        assert (await http.get("/api/v1/inbox")).status_code == 200
        refused = await http.post("/api/v1/account/tokens", json={})
        assert refused.status_code == 403
    again = await clerk.http.get("/account/tokens")
    assert secret not in again.text and "叫号屏" in again.text
    [token] = (await clerk.http.get("/api/v1/account/tokens")).json()["tokens"]
    assert token["scopes"] == ["read"] and token["expires_at"] is not None
    none_chosen = await clerk.http.post("/account/tokens", data={**form, "scope": []})
    assert none_chosen.status_code == 400 and 'id="token-error"' in none_chosen.text
    forged = await clerk.http.post(
        f"/account/tokens/{token['id']}/revoke", data={"csrf_token": "forged"}
    )
    assert forged.status_code == 403
    revoked = await clerk.http.post(
        f"/account/tokens/{token['id']}/revoke", data={"csrf_token": form["csrf_token"]}
    )
    assert revoked.status_code == 303
    assert (await clerk.http.get("/api/v1/account/tokens")).json()["tokens"] == []
    async with with_token(server, secret) as http:
        assert (await http.get("/api/v1/inbox")).status_code == 401
    assert len(await audited(services, "token.revoked")) == 1


async def test_the_room_pages_account_menu_links_to_the_tokens_page(login, cast: Cast) -> None:
    clerk = await login("wangfang")
    room = await clerk.http.get(f"/rooms/{cast.branch_room_ids['城北营业厅']}")
    assert 'href="/account/tokens"' in room.text


async def test_tokens_made_before_scopes_keep_every_right_of_their_users_role(
    empty_database_url: str,
) -> None:
    database = Database(create_engine(empty_database_url))
    try:
        await upgrade(database, "0012")
        now = utcnow()
        async with database.engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO branches (id, name, created_at) VALUES (1, '总部', :now)"),
                {"now": now},
            )
            for user_id, role in ((1, "admin"), (2, "clerk")):
                await connection.execute(
                    text(
                        "INSERT INTO users (id, username, display_name, branch_id, role, "
                        "password_hash, must_change_password, active, created_at) VALUES "
                        "(:id, :name, :name, 1, :role, '', false, true, :now)"
                    ),
                    {"id": user_id, "name": f"u{user_id}", "role": role, "now": now},
                )
                await connection.execute(
                    text(
                        "INSERT INTO api_tokens (token_hash, label, user_id, created_at) "
                        "VALUES (:hash, '', :id, :now)"
                    ),
                    {"hash": f"{user_id:064d}", "id": user_id, "now": now},
                )
        await upgrade(database, "0013")
        async with database.engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT user_id, scopes, expires_at FROM api_tokens ORDER BY user_id")
            )
            assert [tuple(row) for row in rows] == [
                (1, "read post admin", None),
                (2, "read post", None),
            ]
    finally:
        await database.dispose()
