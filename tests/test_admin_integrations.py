"""The console's integrations page (admin/integrations_pages.py): incoming webhooks, bots
and outgoing webhooks made through their API are listed with their revoke buttons, the forms
to add each are there, no secret is on the page, and only administrators get in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.clients import Client

EN = {"Accept-Language": "en"}


async def made(admin: Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await admin.http.post(
        path, json=body, headers={"X-CSRF-Token": admin.csrf_token, **EN}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_page_lists_each_integration_with_its_forms_and_no_secret(login) -> None:
    admin: Client = await login("chengang")
    room = await made(admin, "/api/v1/rooms", {"name": "社保卡监控", "visibility": "invite_only"})
    hook = await made(
        admin,
        "/api/v1/hooks",
        {"room_id": room["id"], "name": "社保系统监控", "allow_username_override": True},
    )
    bot = await made(
        admin,
        "/api/v1/admin/bots",
        {"username": "zifei-bot", "display_name": "资费助手", "room_ids": [room["id"]]},
    )
    outgoing = await made(
        admin,
        "/api/v1/admin/outgoing-hooks",
        {
            "room_id": room["id"],
            "name": "资费机器人",
            "trigger_words": ["资费", "套餐"],
            "callback_url": "https://tools.example.com/answer",
        },
    )
    page = await admin.http.get("/admin/integrations", headers=EN)
    assert page.status_code == 200, page.text
    text = page.text
    assert f'data-hook-id="{hook["id"]}" data-name="社保系统监控"' in text
    assert f'data-bot-id="{bot["id"]}" data-name="资费助手"' in text
    assert "zifei-bot" in text
    assert f'data-outgoing-id="{outgoing["id"]}" data-name="资费机器人"' in text
    assert "资费, 套餐" in text and "https://tools.example.com/answer" in text
    assert text.count("社保卡监控") >= 3  # in each list, and offered in the forms
    for form in ('id="hook-form"', 'id="bot-form"', 'id="outgoing-form"'):
        assert form in text
    assert f'<option value="{room["id"]}">社保卡监控</option>' in text
    for secret in (hook["token"], bot["token"], outgoing["token"]):
        assert secret not in text
    assert 'href="/admin/integrations" aria-current="page"' in text
    assert '"csrf_token"' in text  # the script's boot data

    revoked = await admin.http.delete(
        f"/api/v1/hooks/{hook['id']}", headers={"X-CSRF-Token": admin.csrf_token}
    )
    assert revoked.status_code == 204
    page = await admin.http.get("/admin/integrations", headers=EN)
    assert f'data-hook-id="{hook["id"]}"' not in page.text
    assert "No incoming webhook yet." in page.text


async def test_the_console_links_the_page_in_chinese_by_default(login) -> None:
    admin: Client = await login("chengang")
    landing = await admin.http.get("/admin", headers={"Accept-Language": "zh-CN"})
    assert landing.status_code == 200
    assert 'href="/admin/integrations"' in landing.text and "接口与机器人" in landing.text
    page = await admin.http.get("/admin/integrations", headers={"Accept-Language": "zh-CN"})
    assert '<h1 id="integrations-title">接口与机器人</h1>' in page.text


@pytest.mark.parametrize("username", ["wangfang", "zhangwei", "zhaomin"])
async def test_only_administrators_reach_the_page(login, username: str) -> None:
    other: Client = await login(username)
    refused = await other.http.get("/admin/integrations")
    assert refused.status_code == 403
    assert "zifei" not in refused.text
