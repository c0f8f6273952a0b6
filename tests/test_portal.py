"""The business-systems portal (portal/): administrators keep the entries over
/api/v1/admin/portal (others get 403); each user sees, at GET /api/v1/portal, those meant
for their branch and role, favourites first in their order, then the most used; addresses
are checked (web: http/https; client programs: their own scheme, never javascript:, data:
or file:); the status checks ask real HTTP servers with bounded concurrency and a deadline
each, and tell the chosen room once when a system goes down and once when it is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from counterline.accounts.models import User
from counterline.audit.models import AuditEntry
from counterline.messages.models import Message
from counterline.portal.actions import NOTICE_BOT_USERNAME
from counterline.portal.checking import Target, check_all
from counterline.portal.models import PortalEntry
from counterline.portal.tasks import PortalChecks
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client
from tests.support.status_site import StatusSite
from tests.support.waiting import wait_for

ADMIN_ROUTES = [
    ("GET", "/api/v1/admin/portal", None),
    ("POST", "/api/v1/admin/portal", {"name": "x", "url": "https://x.example/"}),
    ("PUT", "/api/v1/admin/portal/1", {"name": "x", "url": "https://x.example/"}),
    ("DELETE", "/api/v1/admin/portal/1", None),
]


@pytest.fixture
def site() -> Iterator[StatusSite]:
    running = StatusSite(slow_seconds=0.5, hang_seconds=20)
    yield running
    running.stop()


async def call(client: Client, method: str, path: str, body: Any = None, **headers: str) -> Any:
    return await client.http.request(
        method, path, json=body, headers={"X-CSRF-Token": client.csrf_token, **headers}
    )


async def add_entry(admin: Client, **fields: Any) -> dict[str, Any]:
    body = {"name": "核心业务系统", "url": "https://core.example.local/", **fields}
    response = await call(admin, "POST", "/api/v1/admin/portal", body)
    assert response.status_code == 201, response.text
    return response.json()


async def portal_names(client: Client) -> list[str]:
    response = await client.http.get("/api/v1/portal")
    assert response.status_code == 200, response.text
    return [entry["name"] for entry in response.json()["entries"]]


async def test_each_user_sees_the_entries_for_their_branch_and_role(
    login, cast: Cast, services: Services
) -> None:
    admin = await login("chengang")
    await add_entry(admin, name="人人可见", position=1)
    await add_entry(
        admin, name="城北专用", visible_to_all=False, branch_ids=[cast.branch_ids[CHENGBEI]]
    )
    await add_entry(admin, name="主管专用", visible_to_all=False, roles=["manager"])
    await add_entry(
        admin,
        name="花桥柜员",
        visible_to_all=False,
        branch_ids=[cast.branch_ids[HUAQIAO]],
        roles=["clerk"],
    )
    await add_entry(admin, name="谁都不见", visible_to_all=False)
    hidden = await add_entry(admin, name="已停用", active=False)
    assert hidden["active"] is False
    seen = {
        username: set(await portal_names(await login(username)))
        for username in ("wangfang", "lina", "zhaomin", "zhangwei")
    }
    assert seen == {
        "wangfang": {"人人可见", "城北专用"},
        "lina": {"人人可见", "花桥柜员"},
        "zhaomin": {"人人可见", "城北专用", "主管专用"},  # a manager of 城北
        "zhangwei": {"人人可见"},
    }
    listed = await admin.http.get("/api/v1/admin/portal")
    assert len(listed.json()["entries"]) == 6
    async with services.reading() as unit:
        actions = await unit.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("portal.%"))
        )
        assert list(actions) == ["portal.created"] * 6


async def test_an_entry_not_meant_for_the_user_cannot_be_opened_or_starred(
    login, cast: Cast
) -> None:
    admin = await login("chengang")
    entry = await add_entry(
        admin, name="城北专用", visible_to_all=False, branch_ids=[cast.branch_ids[CHENGBEI]]
    )
    lina = await login("lina")
    opened = await call(lina, "POST", f"/api/v1/portal/{entry['id']}/opened")
    assert opened.status_code == 404
    starred = await call(lina, "PUT", "/api/v1/portal/favourites", {"entry_ids": [entry["id"]]})
    assert starred.status_code == 404
    wang = await login("wangfang")
    assert (await call(wang, "POST", f"/api/v1/portal/{entry['id']}/opened")).status_code == 204


async def test_favourites_come_first_in_the_users_order_then_the_most_used(login) -> None:
    admin = await login("chengang")
    first = await add_entry(admin, name="甲", position=1)
    second = await add_entry(admin, name="乙", position=2)
    third = await add_entry(admin, name="丙", position=3)
    lina = await login("lina")
    assert await portal_names(lina) == ["甲", "乙", "丙"]  # by position
    for entry in (third, third, second):
        response = await call(lina, "POST", f"/api/v1/portal/{entry['id']}/opened")
        assert response.status_code == 204
    assert await portal_names(lina) == ["丙", "乙", "甲"]  # most used first
    assert await portal_names(await login("zhouqiang")) == ["甲", "乙", "丙"]  # counts are hers
    ordered = [first["id"], third["id"]]
    response = await call(lina, "PUT", "/api/v1/portal/favourites", {"entry_ids": ordered})
    assert response.status_code == 200, response.text
    entries = response.json()["entries"]
    assert [(e["name"], e["favourite"], e["uses"]) for e in entries] == [
        ("甲", True, 0),
        ("丙", True, 2),
        ("乙", False, 1),
    ]
    moved = await call(
        lina, "PUT", "/api/v1/portal/favourites", {"entry_ids": [third["id"], first["id"]]}
    )
    assert [e["name"] for e in moved.json()["entries"]] == ["丙", "甲", "乙"]
    twice = await call(
        lina, "PUT", "/api/v1/portal/favourites", {"entry_ids": [first["id"], first["id"]]}
    )
    assert twice.status_code == 400
    await call(lina, "PUT", "/api/v1/portal/favourites", {"entry_ids": []})
    assert await portal_names(lina) == ["丙", "乙", "甲"]


BAD_ADDRESSES = [
    ("web", "javascript:alert(1)"),
    ("web", "ftp://files.example.local/"),
    ("web", "http://"),
    ("web", "https://core.example.local:99999/"),
    ("web", "https://core example/"),
    ("client", "javascript:alert(1)"),
    ("client", "JavaScript:alert(1)"),
    ("client", "data:text/html,<script>alert(1)</script>"),
    ("client", "file:///C:/Windows/System32/cmd.exe"),
    ("client", "vbscript:msgbox"),
    ("client", "https://core.example.local/"),
    ("client", "no-scheme-here"),
]


@pytest.mark.parametrize(("kind", "url"), BAD_ADDRESSES)
async def test_an_address_that_is_not_a_web_system_or_a_program_scheme_is_refused(
    login, kind: str, url: str
) -> None:
    admin = await login("chengang")
    response = await call(
        admin,
        "POST",
        "/api/v1/admin/portal",
        {"name": "坏地址", "kind": kind, "url": url},
        **{"Accept-Language": "en"},
    )
    assert response.status_code == 400, response.text
    assert "address" in response.json()["error"] or "scheme" in response.json()["error"]
    assert await portal_names(admin) == []


async def test_address_errors_are_in_the_callers_language_and_client_schemes_are_kept(
    login,
) -> None:
    admin = await login("chengang")
    refused = await call(
        admin,
        "POST",
        "/api/v1/admin/portal",
        {"name": "坏地址", "kind": "client", "url": "javascript:alert(1)"},
        **{"Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 400
    assert "javascript" in refused.json()["error"] and "地址" in refused.json()["error"]
    client = await add_entry(admin, name="信贷客户端", kind="client", url="ccbclient://open?x=1")
    assert client["url"] == "ccbclient://open?x=1" and client["check"]["status"] == "unknown"
    nameless = await call(admin, "POST", "/api/v1/admin/portal", {"name": "  ", "url": "x"})
    assert nameless.status_code == 400
    huge = await call(
        admin,
        "POST",
        "/api/v1/admin/portal",
        {"name": "x", "url": "https://x.example/", "position": 10**9},
    )
    assert huge.status_code == 422


async def test_only_administrators_manage_entries(login) -> None:
    admin = await login("chengang")
    entry = await add_entry(admin)
    for username in ("wangfang", "zhangwei", "zhaomin"):
        user = await login(username)
        for method, path, body in ADMIN_ROUTES:
            path = path.replace("/1", f"/{entry['id']}")
            response = await call(user, method, path, body)
            assert response.status_code == 403, (username, method, path)
    assert await portal_names(admin) == ["核心业务系统"]


async def test_an_administrator_updates_and_deletes_an_entry(login, services: Services) -> None:
    admin = await login("chengang")
    entry = await add_entry(admin, category="核心")
    changed = await call(
        admin,
        "PUT",
        f"/api/v1/admin/portal/{entry['id']}",
        {"name": "新核心", "url": "https://new-core.example.local/", "category": "核心"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "新核心"
    lina = await login("lina")
    assert await portal_names(lina) == ["新核心"]
    deleted = await call(admin, "DELETE", f"/api/v1/admin/portal/{entry['id']}")
    assert deleted.status_code == 204
    assert await portal_names(lina) == []
    missing = await call(admin, "DELETE", f"/api/v1/admin/portal/{entry['id']}")
    assert missing.status_code == 404
    async with services.reading() as unit:
        audited = list(
            await unit.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target == f"portal:{entry['id']}")
                .order_by(AuditEntry.id)
            )
        )
    assert audited == ["portal.created", "portal.updated", "portal.deleted"]


async def test_the_icon_is_an_uploaded_picture_shown_to_those_who_see_the_entry(
    login, cast: Cast
) -> None:
    admin = await login("chengang")
    png = _tiny_png()
    uploaded = await admin.http.post(
        "/api/v1/uploads",
        files={"file": ("icon.png", png, "image/png")},
        headers={"X-CSRF-Token": admin.csrf_token},
    )
    assert uploaded.status_code == 201, uploaded.text
    text = await admin.http.post(
        "/api/v1/uploads",
        files={"file": ("notes.txt", "说明".encode(), "text/plain")},
        headers={"X-CSRF-Token": admin.csrf_token},
    )
    refused = await call(
        admin,
        "POST",
        "/api/v1/admin/portal",
        {"name": "x", "url": "https://x.example/", "icon_upload_id": text.json()["id"]},
    )
    assert refused.status_code == 400
    entry = await add_entry(
        admin,
        icon_upload_id=uploaded.json()["id"],
        visible_to_all=False,
        branch_ids=[cast.branch_ids[CHENGBEI]],
    )
    assert entry["icon_url"] == f"/portal/icons/{entry['id']}"
    wang = await login("wangfang")
    icon = await wang.http.get(entry["icon_url"])
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/")
    lina = await login("lina")
    assert (await lina.http.get(entry["icon_url"])).status_code == 404


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_checks_tell_up_slow_and_down_and_a_hanging_system_delays_no_other(
    site: StatusSite,
) -> None:
    targets = [
        Target(1, f"{site.url}/ok"),
        Target(2, f"{site.url}/slow"),
        Target(3, f"{site.url}/hang"),
        Target(4, f"{site.url}/broken"),
        Target(5, f"{site.url}/no-head"),
        Target(6, f"{site.url}/login"),
        Target(7, "http://127.0.0.1:9/closed"),
        Target(8, f"{site.url}/hang-too"),
    ]
    started = time.perf_counter()
    results = await check_all(targets, timeout=1.5, slow_ms=300, concurrency=10)
    elapsed = time.perf_counter() - started
    by_id = {result.entry_id: result for result in results}
    assert [by_id[n].status for n in range(1, 9)] == [
        "up",
        "slow",
        "down",
        "down",
        "up",
        "up",
        "down",
        "down",
    ]
    assert "1.5 s" in by_id[3].detail and by_id[4].detail == "HTTP 503"
    assert by_id[1].response_ms is not None and by_id[1].response_ms < 300
    assert elapsed < 2.5  # the hanging ones took their 1.5 s beside the others, not in turn
    assert ("GET", "/no-head") in site.requested  # HEAD refused: asked again with GET
    assert [method for method, path in site.requested if path == "/ok"] == ["HEAD"]


async def test_with_one_slot_a_hanging_system_holds_it_only_until_its_deadline(
    site: StatusSite,
) -> None:
    targets = [Target(1, f"{site.url}/hang"), Target(2, f"{site.url}/ok")]
    started = time.perf_counter()
    results = await check_all(targets, timeout=0.5, slow_ms=300, concurrency=1)
    assert [result.status for result in results] == ["down", "up"]
    assert time.perf_counter() - started < 1.5


async def test_a_round_stores_statuses_and_tells_the_room_once_when_down_and_once_back(
    login, site: StatusSite, services: Services, make_settings, cast: Cast
) -> None:
    admin = await login("chengang")
    room_id = cast.branch_room_ids[CHENGBEI]
    watched = await add_entry(
        admin, name="信贷系统", url=f"{site.url}/ok", down_notice_room_id=room_id
    )
    slow = await add_entry(admin, name="报表系统", url=f"{site.url}/slow")
    await add_entry(admin, name="客户端", kind="client", url="ccbclient://open")
    settings = make_settings(portal_check_timeout_seconds=1, portal_slow_ms=300)
    checks = PortalChecks(settings, services.reading, services.transaction)

    assert {(c.name, c.old, c.new) for c in await checks.run_round()} == {
        ("信贷系统", "unknown", "up"),
        ("报表系统", "unknown", "slow"),
    }
    wang = await login("wangfang")
    shown = {
        e["name"]: e["check"] for e in (await wang.http.get("/api/v1/portal")).json()["entries"]
    }
    assert shown["信贷系统"]["status"] == "up" and shown["信贷系统"]["checked_at"]
    assert shown["报表系统"]["status"] == "slow" and shown["报表系统"]["response_ms"] >= 300
    assert shown["客户端"]["status"] == "unknown" and shown["客户端"]["checked_at"] is None
    assert await notices(services, room_id) == []

    site.hang_all = True  # the systems stop answering
    assert len(await checks.run_round()) == 2
    await checks.run_round()  # still down: nothing more to say
    [down] = await notices(services, room_id)
    assert "信贷系统" in down and "无法访问" in down
    async with services.reading() as unit:
        stored = await unit.session.get(PortalEntry, watched["id"])
        assert stored is not None and stored.status == "down" and stored.response_ms is None
        assert (await unit.session.get(PortalEntry, slow["id"])).status == "down"  # type: ignore[union-attr]

    site.hang_all = False
    await checks.run_round()
    assert len(said := await notices(services, room_id)) == 2
    assert "信贷系统" in said[1] and "恢复" in said[1]
    history = await wang.http.get(f"/api/v1/rooms/{room_id}/messages")
    assert [m["body"] for m in history.json()["messages"]][-2:] == said


async def notices(services: Services, room_id: int) -> list[str]:
    async with services.reading() as unit:
        rows = await unit.session.scalars(
            select(Message.body)
            .join(User, User.id == Message.author_id)
            .where(Message.room_id == room_id, User.username == NOTICE_BOT_USERNAME)
            .order_by(Message.id)
        )
        return list(rows)


async def test_the_recurring_job_checks_on_its_own_schedule(
    start_server, sign_in, site: StatusSite
) -> None:
    server = start_server(
        portal_check_seconds=0.3, job_poll_seconds=0.1, portal_check_timeout_seconds=1
    )
    admin = await sign_in(server, "chengang")
    entry = await add_entry(admin, name="网点系统", url=f"{site.url}/ok")

    async def status() -> str:
        response = await admin.http.get("/api/v1/admin/portal")
        [shown] = [e for e in response.json()["entries"] if e["id"] == entry["id"]]
        return shown["check"]["status"]

    await wait_for(lambda: _is(status, "up"), 10, "the first scheduled check")
    site.hang_all = True
    await wait_for(lambda: _is(status, "down"), 10, "a check finding it hanging")


async def _is(status: Any, wanted: str) -> bool:
    return await status() == wanted
