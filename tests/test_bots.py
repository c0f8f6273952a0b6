"""Bot accounts: an administrator makes one for a program (a user that never logs in with a
password, a member of the rooms it may post in) and gets its token once; the bot reads the
stream and posts with it like any client. The example bot (examples/keyword_bot.py) answers
a keyword in a room of the live server."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from sqlalchemy import select

from counterline.accounts.models import ApiToken, User
from counterline.audit.models import AuditEntry
from counterline.services import Services
from tests.cast import Cast
from tests.support.clients import Client
from tests.support.waiting import wait_for

EXAMPLE = Path(__file__).parent.parent / "examples" / "keyword_bot.py"


def keyword_bot() -> ModuleType:
    spec = importlib.util.spec_from_file_location("keyword_bot", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["keyword_bot"] = module
    spec.loader.exec_module(module)
    return module


async def make_bot(admin: Client, *room_ids: int, username: str = "zifei-bot") -> dict[str, Any]:
    response = await admin.http.post(
        "/api/v1/admin/bots",
        json={"username": username, "display_name": "资费助手", "room_ids": list(room_ids)},
        headers={"X-CSRF-Token": admin.csrf_token},
    )
    assert response.status_code == 201, response.text
    return response.json()


def as_bot(server: Any, token: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=20)


async def bodies(client: Client, room_id: int) -> list[tuple[str, str]]:
    response = await client.http.get(f"/api/v1/rooms/{room_id}/messages")
    assert response.status_code == 200, response.text
    return [(m["author"]["username"], m["body"]) for m in response.json()["messages"]]


async def test_a_bot_posts_with_its_token_only_in_its_rooms_and_never_logs_in(
    login, server, cast: Cast, services: Services
) -> None:
    admin = await login("chengang")
    chengbei = cast.branch_room_ids["城北营业厅"]
    huaqiao = cast.branch_room_ids["花桥营业厅"]
    bot = await make_bot(admin, chengbei)
    assert bot["scopes"] == ["read", "post"]
    assert [room["id"] for room in bot["rooms"]] == [chengbei]
    message = {"body": "系统维护通知", "client_id": str(uuid.uuid4())}
    async with as_bot(server, bot["token"]) as http:
        me = (await http.get("/api/v1/session")).json()["user"]
        assert me["id"] == bot["id"] and me["username"] == "zifei-bot"
        posted = await http.post(f"/api/v1/rooms/{chengbei}/messages", json=message)
        assert posted.status_code == 201, posted.text
        elsewhere = await http.post(f"/api/v1/rooms/{huaqiao}/messages", json=message)
        assert elsewhere.status_code == 404
        admin_api = await http.get("/api/v1/admin/bots")
        assert admin_api.status_code == 403  # not an administrator, whatever its scopes
    clerk = await login("wangfang")
    assert ("zifei-bot", "系统维护通知") in await bodies(clerk, chengbei)
    for password in ("", "x", "counter-pass-1"):
        async with httpx.AsyncClient(base_url=server.url) as browser:
            tried = await browser.post(
                "/api/v1/session", json={"username": "zifei-bot", "password": password}
            )
            assert tried.status_code == 401
    async with services.reading() as unit:
        user = await unit.session.scalar(select(User).where(User.username == "zifei-bot"))
        assert user is not None and user.password_hash == "" and user.active
        [entry] = await unit.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "bot.created")
        )
        assert entry.actor_id == admin.user["id"] and entry.details["room_ids"] == [chengbei]


async def test_bots_are_listed_without_tokens_and_a_deactivated_bot_stops(
    login, server, cast: Cast, services: Services
) -> None:
    admin = await login("chengang")
    bot = await make_bot(admin, cast.branch_room_ids["城北营业厅"])
    listed = (await admin.http.get("/api/v1/admin/bots")).json()["bots"]
    assert [b["username"] for b in listed] == ["zifei-bot"]
    assert "token" not in listed[0] and listed[0]["created_by"] == "陈刚"
    taken = await admin.http.post(
        "/api/v1/admin/bots",
        json={"username": "zifei-bot", "display_name": "又一个", "room_ids": []},
        headers={"X-CSRF-Token": admin.csrf_token, "Accept-Language": "en"},
    )
    assert taken.status_code == 400 and "taken" in taken.json()["error"]
    gone = await admin.http.delete(
        f"/api/v1/admin/bots/{bot['id']}", headers={"X-CSRF-Token": admin.csrf_token}
    )
    assert gone.status_code == 204
    async with as_bot(server, bot["token"]) as http:
        assert (await http.get("/api/v1/session")).status_code == 401
    assert (await admin.http.get("/api/v1/admin/bots")).json()["bots"] == []
    again = await admin.http.delete(
        f"/api/v1/admin/bots/{bot['id']}", headers={"X-CSRF-Token": admin.csrf_token}
    )
    assert again.status_code == 404
    async with services.reading() as unit:
        tokens = await unit.session.scalars(select(ApiToken).where(ApiToken.user_id == bot["id"]))
        assert list(tokens) == []
        [entry] = await unit.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "bot.deactivated")
        )
        assert entry.target == f"user:{bot['id']}"


async def test_a_bot_cannot_be_made_for_a_missing_room_or_with_a_bad_name(
    login, cast: Cast
) -> None:
    admin = await login("chengang")
    headers = {"X-CSRF-Token": admin.csrf_token, "Accept-Language": "en"}
    for body, status in [
        ({"username": "b1", "display_name": "x", "room_ids": [999999]}, 404),
        ({"username": "有 空格", "display_name": "x"}, 400),
        ({"username": "b2", "display_name": " "}, 400),
        ({"username": "b3", "display_name": "x", "room_ids": [2**63]}, 422),
        ({"username": "b4", "display_name": "x", "room_ids": list(range(1, 60))}, 422),
        ({"username": "b5"}, 422),
    ]:
        response = await admin.http.post("/api/v1/admin/bots", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
    assert (await admin.http.get("/api/v1/admin/bots")).json()["bots"] == []


async def test_the_example_keyword_bot_answers_a_keyword_in_its_room(
    login, server, cast: Cast
) -> None:
    admin = await login("chengang")
    room_id = cast.branch_room_ids["城北营业厅"]
    bot = await make_bot(admin, room_id)
    module = keyword_bot()
    answer = module.ANSWERS["资费"]
    keyword = module.KeywordBot(server.url, bot["token"])
    running = asyncio.create_task(keyword.run())
    try:
        clerk = await login("wangfang")
        await asyncio.wait_for(keyword.listening.wait(), 10)
        posted = await clerk.post_message(room_id, "资费?", str(uuid.uuid4()))
        assert posted.status_code == 201, posted.text
        await clerk.post_message(room_id, "今天下雨", str(uuid.uuid4()))

        async def answered() -> bool:
            return ("zifei-bot", answer) in await bodies(clerk, room_id)

        await wait_for(answered, 10, "the bot's answer")
        shown = await bodies(clerk, room_id)
        assert shown.count(("zifei-bot", answer)) == 1  # "今天下雨" got none
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def test_the_example_bot_matches_keywords_at_the_start_only() -> None:
    module = keyword_bot()
    answers = {"资费": "A", "资费标准": "B"}
    assert module.answer_for("资费?", answers) == "A"
    assert module.answer_for("  资费标准是多少", answers) == "B"
    assert module.answer_for("请问资费", answers) is None
