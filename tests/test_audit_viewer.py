"""Administrators read the audit log over the API (GET /api/v1/audit) and on a page
(/admin/audit) that filters and pages without JavaScript; nobody else can. And what the
issue wants on the record is there: logins (both ways, with the address), logouts, role and
branch changes, exports and deletions, each written by the path users and operators take."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from counterline.audit.actions import record
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, PASSWORD, Cast
from tests.support.cli import run_cli
from tests.support.clients import Client
from tests.support.live import LiveServer


async def audit(admin: Client, **filters: Any) -> dict[str, Any]:
    response = await admin.http.get("/api/v1/audit", params=filters)
    assert response.status_code == 200, response.text
    return response.json()


async def fail_login(server: LiveServer, username: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/api/v1/session", json={"username": username, "password": "wrong-" + PASSWORD}
        )
        assert response.status_code == 401


def table_of(html: str) -> str:
    """The entries the page shows (its table body)."""
    found = re.search(r"<tbody>(.*)</tbody>", html, re.S)
    assert found is not None, html
    return found.group(1)


async def record_entries(services: Services, *actions: str) -> None:
    async with services.transaction() as unit:
        for action in actions:
            record(unit, action, target="thing:1", note="测试")


async def test_admin_reads_the_log_newest_first_with_names_addresses_and_hashes(
    login, server: LiveServer, cast: Cast
) -> None:
    await fail_login(server, "wangfang")
    admin = await login("chengang")

    page = await audit(admin, limit=2)

    newest, failed = page["entries"]
    assert newest["action"] == "login.succeeded"
    assert newest["actor"] == {
        "id": cast["chengang"].id,
        "username": "chengang",
        "display_name": "陈刚",
    }
    assert newest["client_ip"] == "127.0.0.1"
    assert newest["action_label"] == "登录成功"
    assert failed["action"] == "login.failed"
    assert failed["actor"] is None
    assert failed["target"] == "username:wangfang"
    assert newest["prev_hash"] == failed["entry_hash"]
    assert re.fullmatch(r"[0-9a-f]{64}", newest["entry_hash"])
    assert page["next_before_id"] == failed["id"]
    older = await audit(admin, limit=2, before_id=page["next_before_id"])
    assert older["entries"][0]["id"] < failed["id"]


async def test_admin_filters_by_action_prefix_actor_target_and_days(
    login, server: LiveServer, services: Services
) -> None:
    await fail_login(server, "lina")
    await login("wangfang")
    admin = await login("chengang")
    await record_entries(services, "loginx.other", "test.custom")

    logins = (await audit(admin, action="login"))["entries"]
    assert {entry["action"] for entry in logins} == {"login.succeeded", "login.failed"}
    assert [entry["action"] for entry in (await audit(admin, action="login.failed"))["entries"]]
    by_wang = (await audit(admin, actor="wangfang"))["entries"]
    assert {entry["actor"]["username"] for entry in by_wang} == {"wangfang"}
    lina = (await audit(admin, target="username:lina"))["entries"]
    assert [entry["action"] for entry in lina] == ["login.failed"]

    today = datetime.now(services.settings.zone).date()
    tomorrow = today + timedelta(days=1)
    assert len((await audit(admin, after=today.isoformat(), action="login"))["entries"]) == 3
    assert (await audit(admin, before=today.isoformat(), action="login"))["entries"] == []
    assert (await audit(admin, after=tomorrow.isoformat()))["entries"] == []


async def test_a_day_that_cannot_be_read_is_a_400_saying_why(login) -> None:
    admin = await login("chengang")
    for bad in ("2026-13-01", "yesterday"):
        response = await admin.http.get("/api/v1/audit", params={"after": bad})
        assert response.status_code == 400
        assert "YYYY-MM-DD" in response.json()["error"]
    response = await admin.http.get(
        "/api/v1/audit", params={"after": "2026-02-01", "before": "2026-01-01"}
    )
    assert response.status_code == 400
    response = await admin.http.get("/api/v1/audit", params={"limit": 201})
    assert response.status_code == 422


async def test_clerks_and_managers_may_not_read_the_log(login) -> None:
    for username in ("wangfang", "zhaomin"):
        someone = await login(username)
        assert (await someone.http.get("/api/v1/audit")).status_code == 403
        assert (await someone.http.get("/admin/audit")).status_code == 403


async def test_the_page_shows_translated_actions_filters_and_pages_without_javascript(
    login, services: Services
) -> None:
    await login("wangfang")
    await record_entries(services, *[f"test.custom{n}" for n in range(3)])
    admin = await login("chengang")

    page = await admin.http.get("/admin/audit", params={"limit": 2})
    assert page.status_code == 200
    assert ">登录成功<" in table_of(page.text)
    assert ">test.custom2<" in table_of(page.text)  # an action with no name: as stored
    older = re.search(r'href="([^"]+)" rel="next" id="audit-older"', page.text)
    assert older is not None
    second = table_of((await admin.http.get(older.group(1).replace("&amp;", "&"))).text)
    assert ">test.custom1<" in second
    assert ">test.custom0<" in second
    assert "登录成功" not in second

    filtered = await admin.http.get("/admin/audit", params={"action": "test", "actor": ""})
    assert ">test.custom0<" in table_of(filtered.text)
    assert "登录成功" not in table_of(filtered.text)
    assert 'value="test"' in filtered.text  # the form keeps what was typed

    refused = await admin.http.get("/admin/audit", params={"before": "31/01/2026"})
    assert refused.status_code == 400
    assert "YYYY-MM-DD" in refused.text


async def test_the_page_verifies_the_chain_when_asked(login, services: Services) -> None:
    admin = await login("chengang")
    page = await admin.http.get("/admin/audit")
    assert "chain-status" not in page.text

    checked = await admin.http.get("/admin/audit", params={"check": "1"})

    newest = (await audit(admin, limit=1))["entries"][0]
    status = re.search(r'id="chain-status">(.*?)</p>', checked.text, re.S)
    assert status is not None
    assert f"哈希链已校验到第 {newest['id']} 条" in status.group(1)
    assert newest["entry_hash"] in status.group(1)


async def test_only_administrators_find_the_audit_log_in_the_room_header(login, cast: Cast) -> None:
    for username, shown in (("chengang", True), ("zhaomin", False), ("wangfang", False)):
        someone = await login(username)
        page = await someone.http.get(f"/rooms/{cast.company_room_id}")
        assert page.status_code == 200
        assert ('href="/admin/audit"' in page.text) is shown, username


async def test_logins_logouts_roles_branches_exports_and_deletions_are_on_the_record(
    login, server: LiveServer, services: Services, cast: Cast, tmp_path: Path
) -> None:
    """Each done the way people do it (HTTP, the CLI), then read back as an admin would."""
    url = services.settings.effective_database_url
    await fail_login(server, "wangfang")
    wang = await login("wangfang")
    posted = await wang.post_message(cast.company_room_id, "写错了", "audit-coverage-1")
    message_id = posted.json()["id"]
    deleted = await wang.http.delete(
        f"/api/v1/messages/{message_id}", headers={"X-CSRF-Token": wang.csrf_token}
    )
    assert deleted.status_code == 204
    logout = await wang.http.delete("/api/v1/session", headers={"X-CSRF-Token": wang.csrf_token})
    assert logout.status_code == 204
    await run_cli(url, tmp_path, "user", "role", "lina", "trainer")
    await run_cli(url, tmp_path, "user", "move", "zhouqiang", "--branch", CHENGBEI)
    manager = await login("zhaomin")
    export = await manager.http.get(f"/api/v1/rooms/{cast.company_room_id}/export")
    assert export.status_code == 200
    admin = await login("chengang")

    log = (await audit(admin, limit=200))["entries"]
    wang_id, lina_id = cast["wangfang"].id, cast["lina"].id

    def found(action: str, **expected: Any) -> dict[str, Any]:
        matches = [e for e in log if e["action"] == action and expected.items() <= e.items()]
        assert matches, (action, expected, [e["action"] for e in log])
        return matches[0]

    assert found("login.failed", target="username:wangfang")["client_ip"] == "127.0.0.1"
    assert found("login.succeeded", target=f"user:{wang_id}")["client_ip"] == "127.0.0.1"
    assert found("message.delete", target=f"message:{message_id}")["actor"]["id"] == wang_id
    assert found("logout", target=f"user:{wang_id}")["client_ip"] == "127.0.0.1"
    role = found("user.role_changed", target=f"user:{lina_id}")["details"]
    assert role["to_role"] == "trainer"
    moved = found("user.moved", target=f"user:{cast['zhouqiang'].id}")["details"]
    assert moved["to_branch"] == cast.branch_ids[CHENGBEI]
    assert moved["from_branch"] == cast.branch_ids[HUAQIAO]
    exported = found("record.exported", target=f"room:{cast.company_room_id}")
    assert exported["actor"]["username"] == "zhaomin"
    assert exported["client_ip"] == "127.0.0.1"
    await run_cli(url, tmp_path, "audit", "verify")
