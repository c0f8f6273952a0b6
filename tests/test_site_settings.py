"""Site settings (site/, admin/console_routes.py, admin/settings_pages.py): what an
administrator sets in the console overrides the config file at once on this server, within
a minute on the others, and is audited with its values before and after. The retention job
deletes old operational data, never the record."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select, update

from counterline.accounts.models import LoginAttempt
from counterline.audit.models import AuditEntry
from counterline.db import utcnow
from counterline.jobs.registry import RunningJob
from counterline.messages.models import Message
from counterline.services import TASKS, Services
from counterline.site import tasks as site_tasks
from counterline.site import values
from counterline.site.models import SiteSetting
from tests.cast import Cast
from tests.support.clients import Client
from tests.support.waiting import wait_for

SETTINGS = "/api/v1/admin/settings"
EN = {"Accept-Language": "en"}


def csrf(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf_token, **EN}


async def put_settings(admin: Client, **changes: Any) -> httpx.Response:
    return await admin.http.put(SETTINGS, json=changes, headers=csrf(admin))


async def settings_entries(services: Services) -> list[AuditEntry]:
    async with services.reading() as unit:
        return list(
            await unit.session.scalars(
                select(AuditEntry).where(AuditEntry.target == "settings").order_by(AuditEntry.id)
            )
        )


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


async def upload(client: Client, name: str, content: bytes) -> httpx.Response:
    return await client.http.post(
        "/api/v1/uploads",
        files={"file": (name, content, "application/octet-stream")},
        headers=csrf(client),
    )


async def test_settings_start_as_the_config_file_says(login) -> None:
    admin: Client = await login("chengang")
    settings = (await admin.http.get(SETTINGS)).json()
    assert settings["site_name"] == ""
    assert settings["default_language"] == "zh_CN"
    assert settings["time_zone"] == "Asia/Shanghai"
    assert settings["message_edit_minutes"] == 15
    assert settings["max_upload_mb"] == 10
    assert settings["retention_days"] == values.DEFAULT_RETENTION_DAYS
    assert settings["from_console"] == []


async def test_the_site_name_shows_in_titles_and_the_top_bar_and_is_audited(
    login, cast: Cast, services: Services
) -> None:
    admin: Client = await login("chengang")
    changed = await put_settings(admin, site_name="  城北   业务交流 ")
    assert changed.status_code == 200, changed.text
    assert changed.json()["site_name"] == "城北 业务交流"
    assert changed.json()["from_console"] == ["site_name"]
    clerk: Client = await login("wangfang")
    page = await clerk.http.get(f"/rooms/{cast.company_room_id}")
    assert "· 城北 业务交流</title>" in page.text
    assert '<span class="brand-name">城北 业务交流</span>' in page.text
    [entry] = await settings_entries(services)
    assert entry.action == "settings.changed"
    assert entry.actor_id == cast["chengang"].id
    assert entry.details == {"before": {"site_name": None}, "after": {"site_name": "城北 业务交流"}}

    back = await put_settings(admin, site_name=None)
    assert back.json()["site_name"] == "" and back.json()["from_console"] == []
    page = await clerk.http.get(f"/rooms/{cast.company_room_id}", headers=EN)
    assert "· Counterline</title>" in page.text
    entries = await settings_entries(services)
    assert entries[-1].details == {
        "before": {"site_name": "城北 业务交流"},
        "after": {"site_name": None},
    }
    # The same value again changes nothing and writes nothing.
    await put_settings(admin, site_name=None)
    assert len(await settings_entries(services)) == 2


async def test_values_that_cannot_be_used_are_named_and_nothing_is_saved(
    login, services: Services
) -> None:
    admin: Client = await login("chengang")
    refused = await put_settings(
        admin,
        site_name="好名字",
        time_zone="Mars/Olympus",
        default_language="fr",
        message_edit_minutes=-1,
        max_upload_mb="lots",
        retention_days=1,
    )
    assert refused.status_code == 400, refused.text
    fields = refused.json()["fields"]
    assert set(fields) == {
        "time_zone",
        "default_language",
        "message_edit_minutes",
        "max_upload_mb",
        "retention_days",
    }
    assert "Mars/Olympus" in fields["time_zone"]
    assert "7 to 3650" in fields["retention_days"]
    assert (await admin.http.get(SETTINGS)).json()["site_name"] == ""
    assert await settings_entries(services) == []
    for body in ({"site_name": "x" * 1001}, {"max_upload_mb": 2**60}, {"site_logo": []}):
        assert (await put_settings(admin, **body)).status_code in (400, 422), body


async def test_the_settings_page_shows_each_problem_next_to_its_field(login) -> None:
    admin: Client = await login("chengang")
    page = await admin.http.get("/admin/settings", headers=EN)
    assert page.status_code == 200
    assert "Messages, their edit history and the audit log are never deleted" in page.text
    form = {
        "csrf_token": admin.csrf_token,
        "site_name": "营业交流",
        "time_zone": "Nowhere/City",
        "message_edit_minutes": "5",
    }
    refused = await admin.http.post("/admin/settings", data=form, headers=EN)
    assert refused.status_code == 400
    assert 'id="time_zone-error">“Nowhere/City” is not a time zone' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'value="营业交流"' in refused.text  # what was typed stays in the form
    form["time_zone"] = "Europe/Berlin"
    saved = await admin.http.post("/admin/settings", data=form, headers=EN)
    assert saved.status_code == 303
    settings = (await admin.http.get(SETTINGS)).json()
    assert settings["time_zone"] == "Europe/Berlin"
    assert settings["message_edit_minutes"] == 5
    assert settings["site_name"] == "营业交流"
    # No token, no change.
    forged = await admin.http.post("/admin/settings", data={**form, "csrf_token": "x"})
    assert forged.status_code == 403


async def test_a_shortened_edit_window_refuses_the_edit(login, cast: Cast) -> None:
    admin: Client = await login("chengang")
    clerk: Client = await login("wangfang")
    room = cast.company_room_id
    first = (await clerk.post_message(room, "第一条", "client-edit-1")).json()
    edited = await clerk.http.patch(
        f"/api/v1/messages/{first['id']}", json={"body": "第一条（改）"}, headers=csrf(clerk)
    )
    assert edited.status_code == 200, edited.text
    assert (await put_settings(admin, message_edit_minutes=0)).status_code == 200
    second = (await clerk.post_message(room, "第二条", "client-edit-2")).json()
    refused = await clerk.http.patch(
        f"/api/v1/messages/{second['id']}", json={"body": "第二条（改）"}, headers=csrf(clerk)
    )
    assert refused.status_code == 403
    page = await clerk.http.get(f"/rooms/{room}")
    assert '"edit_window_seconds": 0.0' in page.text or '"edit_window_seconds":0.0' in page.text


async def test_the_upload_limit_follows_the_console_both_ways(start_server, sign_in) -> None:
    server = start_server(max_upload_bytes=1 << 20)  # the config file: 1 MB
    admin: Client = await sign_in(server, "chengang")
    clerk: Client = await sign_in(server, "wangfang")
    text = b"counter notes\n" * 110_000  # 1.5 MB of plain text
    assert (await upload(clerk, "notes.txt", text)).status_code == 413
    assert (await put_settings(admin, max_upload_mb=2)).status_code == 200
    assert (await upload(clerk, "notes.txt", text)).status_code == 201
    assert (await put_settings(admin, max_upload_mb=1)).status_code == 200
    refused = await upload(clerk, "notes.txt", text)
    assert refused.status_code == 413
    assert "1 MB" in refused.json()["error"]


async def test_default_language_english_greets_a_new_visitor_in_english(login, server) -> None:
    admin: Client = await login("chengang")
    async with httpx.AsyncClient(base_url=server.url) as visitor:
        before = await visitor.get("/login")
        assert '<html lang="zh-CN">' in before.text
        assert (await put_settings(admin, default_language="en")).status_code == 200
        after = await visitor.get("/login")
        assert '<html lang="en">' in after.text
        assert "Log in" in after.text
    # A visitor who chose Chinese keeps it.
    async with httpx.AsyncClient(
        base_url=server.url, cookies={"counterline_lang": "zh_CN"}
    ) as chooser:
        assert '<html lang="zh-CN">' in (await chooser.get("/login")).text


async def test_another_server_follows_a_change_within_its_refresh(
    start_server, sign_in, monkeypatch
) -> None:
    monkeypatch.setattr(values, "REFRESH_SECONDS", 0.2)
    first, second = start_server(), start_server()
    admin: Client = await sign_in(first, "chengang")
    visitor = httpx.AsyncClient(base_url=second.url)
    try:
        assert (await put_settings(admin, site_name="两台服务器")).status_code == 200

        async def second_shows_it() -> bool:
            return "两台服务器" in (await visitor.get("/login")).text

        await wait_for(second_shows_it, 5, "the other server to show the new site name")
    finally:
        await visitor.aclose()


async def test_the_logo_must_be_a_picture(login) -> None:
    admin: Client = await login("chengang")
    picture = (await upload(admin, "logo.png", png())).json()
    text = (await upload(admin, "notes.txt", b"not a picture\n")).json()
    refused = await put_settings(admin, site_logo=text["id"])
    assert refused.status_code == 400 and "site_logo" in refused.json()["fields"]
    assert (await put_settings(admin, site_logo=999_999)).status_code == 400
    accepted = await put_settings(admin, site_logo=picture["id"])
    assert accepted.status_code == 200 and accepted.json()["site_logo"] == picture["id"]


async def test_the_retention_job_purges_old_login_attempts_but_never_messages(
    login, cast: Cast, services: Services
) -> None:
    admin: Client = await login("chengang")
    clerk: Client = await login("wangfang")
    await clerk.post_message(cast.company_room_id, "很久以前的消息", "client-old-1")
    assert (await put_settings(admin, retention_days=30)).status_code == 200
    long_ago = utcnow() - timedelta(days=400)
    async with services.transaction() as unit:
        unit.session.add(LoginAttempt(username="wangfang", client_ip="10.0.0.1", at=long_ago))
        unit.session.add(
            LoginAttempt(
                username="wangfang", client_ip="10.0.0.2", at=utcnow() - timedelta(days=29)
            )
        )
        await unit.session.execute(update(Message).values(created_at=long_ago))
    async with services.reading() as unit:
        messages = await unit.session.scalar(select(func.count()).select_from(Message))
        audit = await unit.session.scalar(select(func.count()).select_from(AuditEntry))

    job = RunningJob(0, "site.purge_operational_data", {}, 1, 1, utcnow())
    async with services.transaction() as unit:
        await site_tasks.purge_operational_data(unit, job)

    async with services.reading() as unit:
        kept = list(await unit.session.scalars(select(LoginAttempt.client_ip)))
        assert kept == ["10.0.0.2"]
        assert await unit.session.scalar(select(func.count()).select_from(Message)) == messages
        assert await unit.session.scalar(select(func.count()).select_from(AuditEntry)) >= audit
    assert any("site.purge_operational_data" in job_set.kinds for job_set in TASKS)
    kind = next(
        s.kinds["site.purge_operational_data"]
        for s in TASKS
        if s.kinds.get("site.purge_operational_data")
    )
    assert kind.every == timedelta(days=1)


async def test_a_stored_value_that_became_unusable_falls_back_to_the_config_file(
    services: Services,
) -> None:
    async with services.transaction() as unit:
        unit.session.add(SiteSetting(key="time_zone", value="Gone/Away"))
        unit.session.add(SiteSetting(key="message_edit_minutes", value=3))
    async with services.reading() as unit:
        await services.site.load(unit)
    assert services.site.time_zone == "Asia/Shanghai"
    assert services.site.message_edit_minutes == 3


async def test_the_logo_set_in_the_console_is_served_to_everyone(login, server) -> None:
    admin: Client = await login("chengang")
    async with httpx.AsyncClient(base_url=server.url) as visitor:
        standard = await visitor.get("/site/logo")
        assert standard.status_code == 307
        assert standard.headers["location"] == "/static/favicon.svg"
        picture = (await upload(admin, "logo.png", png())).json()
        assert (await put_settings(admin, site_logo=picture["id"])).status_code == 200
        logo = await visitor.get("/site/logo")
        assert logo.status_code == 200
        assert logo.headers["content-type"] == "image/png"
        assert logo.content.startswith(b"\x89PNG")
        assert logo.headers["cache-control"] == "public, max-age=60"
