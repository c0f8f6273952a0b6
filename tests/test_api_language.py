"""The API answers errors in the language of Accept-Language, English when it is absent
or names no language we ship, whoever is logged in and whatever they chose for the pages;
pages keep the user's own setting. Against the live server."""

from __future__ import annotations

import httpx

from tests.support.clients import Client

MISSING_ROOM = "/api/v1/rooms/999999/messages"
ENGLISH = "Room not found, or you are not a member of it."
CHINESE = "房间不存在，或您不是该房间的成员。"


async def error_of(client: Client, path: str, language: str | None) -> str:
    headers = {"Accept-Language": language} if language else {}
    client.http.headers.pop("Accept-Language", None)
    response = await client.http.get(path, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    return response.json()["error"]


async def test_the_same_bad_request_is_answered_in_the_requested_language(login) -> None:
    clerk = await login("wangfang")
    assert await error_of(clerk, MISSING_ROOM, "zh-CN") == CHINESE
    assert await error_of(clerk, MISSING_ROOM, "zh-CN,zh;q=0.9,en;q=0.8") == CHINESE
    assert await error_of(clerk, MISSING_ROOM, None) == ENGLISH
    assert await error_of(clerk, MISSING_ROOM, "en-US") == ENGLISH
    assert await error_of(clerk, MISSING_ROOM, "fr-FR") == ENGLISH


async def test_refusals_and_invalid_fields_follow_accept_language_too(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        english = await http.get("/api/v1/inbox")
        chinese = await http.get("/api/v1/inbox", headers={"Accept-Language": "zh-CN"})
        assert english.status_code == chinese.status_code == 401
        assert english.json()["error"] == "Please log in."
        assert chinese.json()["error"] == "请先登录。"
        bad = {"username": 5}
        english = await http.post("/api/v1/session", json=bad)
        chinese = await http.post("/api/v1/session", json=bad, headers={"Accept-Language": "zh"})
        assert english.status_code == chinese.status_code == 422
        assert english.json()["error"].startswith("Invalid or missing fields")
        assert not chinese.json()["error"].startswith("Invalid")


async def test_the_users_own_language_rules_her_pages_not_the_api(login) -> None:
    clerk = await login("wangfang")
    page = await clerk.http.get("/account/password", headers={"Accept-Language": "zh-CN"})
    form = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    chosen = await clerk.http.post(
        "/account/language", data={"language": "en", "csrf_token": form, "next": "/"}
    )
    assert chosen.status_code == 303
    clerk.http.cookies.delete("counterline_lang")
    english_page = await clerk.http.get("/account/password", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english_page.text
    assert await error_of(clerk, MISSING_ROOM, "zh-CN") == CHINESE
    assert await error_of(clerk, MISSING_ROOM, None) == ENGLISH
