"""The users console's API (/api/v1/admin/users): an administrator lists, creates, edits,
deactivates and reactivates users, resets passwords and clears failed logins; each change
is on the audit log under the admin's name; deactivating never deletes; nobody else may
call any of it. Against the live server."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from tests.cast import CHENGBEI, HUAQIAO, PASSWORD, Cast
from tests.support.clients import Client

USERS = "/api/v1/admin/users"


def csrf(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf_token}


async def audit_of(admin: Client, target: str) -> list[dict[str, Any]]:
    response = await admin.http.get("/api/v1/audit", params={"target": target})
    assert response.status_code == 200, response.text
    return response.json()["entries"]


async def create(admin: Client, cast: Cast, username: str, **extra: Any) -> dict[str, Any]:
    body = {
        "username": username,
        "display_name": extra.pop("display_name", "新同事"),
        "branch_id": cast.branch_ids[CHENGBEI],
        **extra,
    }
    response = await admin.http.post(USERS, json=body, headers=csrf(admin))
    assert response.status_code == 201, response.text
    return response.json()


async def try_login(server: Any, username: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        return await client.post(
            "/api/v1/session", json={"username": username, "password": password}
        )


async def test_admin_searches_and_filters_users_a_page_at_a_time(login, cast: Cast) -> None:
    admin = await login("chengang")
    everyone = (await admin.http.get(USERS)).json()
    assert everyone["total"] == len(cast.people)
    by_name = (await admin.http.get(USERS, params={"q": "王"})).json()
    assert [user["username"] for user in by_name["users"]] == ["wangfang"]
    by_username = (await admin.http.get(USERS, params={"q": "ZHOU"})).json()
    assert [user["username"] for user in by_username["users"]] == ["zhouqiang"]
    in_huaqiao = await admin.http.get(USERS, params={"branch_id": cast.branch_ids[HUAQIAO]})
    assert {user["username"] for user in in_huaqiao.json()["users"]} == {"lina", "zhouqiang"}
    managers = (await admin.http.get(USERS, params={"role": "manager"})).json()
    assert [user["username"] for user in managers["users"]] == ["zhaomin"]
    page = (await admin.http.get(USERS, params={"limit": 2, "offset": 2})).json()
    assert page["total"] == len(cast.people) and len(page["users"]) == 2
    assert page["users"] == everyone["users"][2:4]
    wildcard = (await admin.http.get(USERS, params={"q": "%"})).json()
    assert wildcard["total"] == 0
    for bad in ({"limit": 0}, {"limit": 201}, {"role": "boss"}, {"offset": -1}, {"q": "x" * 65}):
        assert (await admin.http.get(USERS, params=bad)).status_code == 422, bad


async def test_a_created_user_gets_a_one_time_password_to_replace_at_first_login(
    login, server, cast: Cast
) -> None:
    admin = await login("chengang")
    created = await create(admin, cast, "xiaoli", display_name="小李", role="trainer")
    user = created["user"]
    assert (user["username"], user["display_name"], user["role"]) == ("xiaoli", "小李", "trainer")
    assert user["branch_name"] == CHENGBEI and user["must_change_password"] is True
    signed_in = await try_login(server, "xiaoli", created["one_time_password"])
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["must_change_password"] is True
    [entry] = [
        e for e in await audit_of(admin, f"user:{user['id']}") if e["action"] == "user.added"
    ]
    assert entry["actor"]["username"] == "chengang"
    listed = (await admin.http.get(USERS, params={"q": "xiaoli"})).json()["users"]
    assert "one_time_password" not in listed[0] and "password_hash" not in listed[0]
    again = await admin.http.post(
        USERS,
        json={"username": "xiaoli", "display_name": "x", "branch_id": cast.branch_ids[CHENGBEI]},
        headers=csrf(admin),
    )
    assert again.status_code == 400 and "xiaoli" in again.json()["error"]


async def test_an_edit_renames_moves_and_changes_the_role_each_on_the_audit_log(
    login, cast: Cast
) -> None:
    admin = await login("chengang")
    lina = cast["lina"].id
    response = await admin.http.patch(
        f"{USERS}/{lina}",
        json={"display_name": "李娜娜", "branch_id": cast.branch_ids[CHENGBEI], "role": "manager"},
        headers=csrf(admin),
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["display_name"], changed["branch_name"], changed["role"]) == (
        "李娜娜",
        CHENGBEI,
        "manager",
    )
    actions = {entry["action"] for entry in await audit_of(admin, f"user:{lina}")}
    assert {"user.renamed", "user.moved", "user.role_changed"} <= actions
    rooms = (await (await login("lina")).http.get("/api/v1/rooms")).json()
    room_ids = {room["id"] for room in rooms["rooms"]}
    assert cast.branch_room_ids[CHENGBEI] in room_ids
    assert cast.branch_room_ids[HUAQIAO] not in room_ids
    for bad in ({"display_name": ""}, {"display_name": "x" * 101}):
        refused = await admin.http.patch(f"{USERS}/{lina}", json=bad, headers=csrf(admin))
        assert refused.status_code in (400, 422), refused.text
    for bad in ({"branch_id": 999999}, {"role": "boss"}, {"branch_id": "1"}):
        refused = await admin.http.patch(f"{USERS}/{lina}", json=bad, headers=csrf(admin))
        assert refused.status_code in (404, 422), (bad, refused.text)
    missing = await admin.http.patch(f"{USERS}/999999", json={}, headers=csrf(admin))
    assert missing.status_code == 404


async def test_a_deactivated_user_cannot_log_in_and_history_keeps_her_name(
    login, server, cast: Cast
) -> None:
    admin = await login("chengang")
    lina = await login("lina")
    room = cast.branch_room_ids[HUAQIAO]
    posted = await lina.post_message(room, "柜台三号机打印机卡纸", uuid.uuid4().hex)
    assert posted.status_code in (200, 201), posted.text
    response = await admin.http.post(f"{USERS}/{cast['lina'].id}/deactivate", headers=csrf(admin))
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert (await lina.http.get("/api/v1/rooms")).status_code == 401  # her session ended
    assert (await try_login(server, "lina", PASSWORD)).status_code == 401
    zhouqiang = await login("zhouqiang")
    history = (await zhouqiang.http.get(f"/api/v1/rooms/{room}/messages")).json()["messages"]
    [hers] = [message for message in history if message["body"] == "柜台三号机打印机卡纸"]
    assert hers["author"]["display_name"] == "李娜"
    deactivated = (await admin.http.get(USERS, params={"active": "false"})).json()["users"]
    assert [user["username"] for user in deactivated] == ["lina"]
    back = await admin.http.post(f"{USERS}/{cast['lina'].id}/reactivate", headers=csrf(admin))
    assert back.status_code == 200 and back.json()["active"] is True
    assert (await try_login(server, "lina", PASSWORD)).status_code == 200
    actions = [entry["action"] for entry in await audit_of(admin, f"user:{cast['lina'].id}")]
    assert "user.deactivated" in actions and "user.reactivated" in actions


async def test_an_admin_cannot_deactivate_or_demote_themselves(login, cast: Cast) -> None:
    admin = await login("chengang")
    me = cast["chengang"].id
    refused = await admin.http.post(f"{USERS}/{me}/deactivate", headers=csrf(admin))
    assert refused.status_code == 400
    demoted = await admin.http.patch(f"{USERS}/{me}", json={"role": "clerk"}, headers=csrf(admin))
    assert demoted.status_code == 400
    assert (await admin.http.get(USERS)).status_code == 200


async def test_a_password_reset_gives_a_one_time_password_and_ends_her_sessions(
    login, server, cast: Cast
) -> None:
    admin = await login("chengang")
    wangfang = await login("wangfang")
    response = await admin.http.post(
        f"{USERS}/{cast['wangfang'].id}/password-reset", headers=csrf(admin)
    )
    assert response.status_code == 200, response.text
    one_time = response.json()["one_time_password"]
    assert response.json()["user"]["must_change_password"] is True
    assert (await wangfang.http.get("/api/v1/rooms")).status_code == 401
    assert (await try_login(server, "wangfang", PASSWORD)).status_code == 401
    fresh = Client(server.url)
    try:
        assert (await fresh.log_in("wangfang", one_time)).status_code == 200
        assert (await fresh.http.get("/api/v1/rooms")).status_code == 403  # change it first
    finally:
        await fresh.close()
    actions = [entry["action"] for entry in await audit_of(admin, f"user:{cast['wangfang'].id}")]
    assert "user.password_reset" in actions


async def test_unlock_forgets_the_failed_logins(login, server, cast: Cast) -> None:
    admin = await login("chengang")
    for _ in range(3):
        assert (await try_login(server, "zhouqiang", "wrong password")).status_code == 401
    listed = (await admin.http.get(USERS, params={"q": "zhouqiang"})).json()["users"]
    assert listed[0]["failed_logins"] == 3
    response = await admin.http.post(f"{USERS}/{cast['zhouqiang'].id}/unlock", headers=csrf(admin))
    assert response.status_code == 200, response.text
    assert response.json()["failures_cleared"] == 3
    assert response.json()["user"]["failed_logins"] == 0
    [entry] = [
        entry
        for entry in await audit_of(admin, f"user:{cast['zhouqiang'].id}")
        if entry["action"] == "user.unlocked"
    ]
    assert entry["details"]["failures"] == 3


async def test_the_export_is_excel_ready_csv_without_passwords(login, cast: Cast) -> None:
    admin = await login("chengang")
    response = await admin.http.get(f"{USERS}/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["username"] for row in rows} == set(cast.people)
    assert {"username", "display_name", "branch", "role"} <= set(rows[0])
    assert "$argon2" not in text and "password" not in text
    [wangfang] = [row for row in rows if row["username"] == "wangfang"]
    assert (wangfang["display_name"], wangfang["branch"], wangfang["role"]) == (
        "王芳",
        CHENGBEI,
        "clerk",
    )
    [entry] = await audit_of(admin, "users")
    assert entry["action"] == "user.list_exported"


def users_console_routes(app: Any) -> list[tuple[str, str]]:
    """Every route of the users console, read from the route table."""
    routes = []
    for route in iter_route_contexts(app.routes):
        if route.path.startswith(("/api/v1/admin/users", "/admin/users")):
            routes.extend((method, route.path) for method in route.methods - {"HEAD"})
    return sorted(routes)


@pytest.mark.parametrize("username", ["wangfang", "zhangwei", "zhaomin"])
async def test_nobody_but_an_admin_may_call_any_users_console_route(
    login, server, username: str, cast: Cast
) -> None:
    client = await login(username)
    routes = users_console_routes(server.app)
    assert len(routes) >= 14
    for method, path in routes:
        url = path.replace("{user_id}", str(cast["lina"].id)).replace("{import_id}", "1")
        response = await client.http.request(method, url, headers=csrf(client))
        assert response.status_code == 403, (method, path, response.status_code)


async def test_the_users_page_lists_and_filters_users_for_an_admin(login, cast: Cast) -> None:
    admin = await login("chengang")
    page = await admin.http.get("/admin/users", params={"branch_id": cast.branch_ids[HUAQIAO]})
    assert page.status_code == 200, page.text
    assert "李娜" in page.text and "周强" in page.text and "王芳" not in page.text
    assert 'href="/admin/users" aria-current="page"' in page.text
    importing = await admin.http.get("/admin/users/import")
    assert importing.status_code == 200 and 'role="progressbar"' in importing.text


async def test_nul_characters_never_reach_the_database(login, cast: Cast) -> None:
    admin = await login("chengang")
    created = await create(admin, cast, "xiaozhou", display_name="小\u0000周")
    assert created["user"]["display_name"] == "小周"
    found = await admin.http.get(USERS, params={"q": "小\u0000周"})
    assert found.status_code == 200 and found.json()["total"] == 1
