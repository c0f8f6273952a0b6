"""Incoming webhooks (hooks/): an administrator makes one for a room and sees its secret
URL once; a tool posts Slack/Mattermost payloads to ``/hooks/{token}``, stored and delivered
like any post, as the hook's bot; bad payloads get their 4xx, revoked hooks 404, a hook
posting too fast 429. Against the live server, behind a trusted proxy so the tool has its
own address."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from counterline.accounts.models import User
from counterline.audit.models import AuditEntry
from counterline.hooks.actions import MAX_PAYLOAD_BYTES
from counterline.hooks.models import IncomingHook
from counterline.limits import TokenBuckets
from counterline.messages.models import Message
from counterline.messages.schemas import MAX_BODY_LENGTH
from counterline.services import Services
from tests.cast import HEAD_OFFICE, Cast
from tests.support.clients import Client, open_stream
from tests.support.waiting import wait_for

TOOL_ADDRESS = "10.20.30.40"
# Mattermost's documentation, "Incoming webhooks": the payload of its curl example.
MATTERMOST_EXAMPLE = {
    "channel": "town-square",
    "username": "test-automation",
    "icon_url": "https://mattermost.com/wp-content/uploads/2022/02/icon.png",
    "text": "#### Test results for July 27th, 2017\n@channel please review failed tests.\n\n"
    "| Component  | Tests Run   | Tests Failed                                   |\n"
    "|:-----------|:-----------:|:-----------------------------------------------|\n"
    "| Server     | 948         | :white_check_mark: 0                           |\n"
    "| Web Client | 123         | :warning: 2 [(see details)](https://linktoreport.com/test-report) |\n"  # noqa: E501
    "| iOS Client | 78          | :warning: 3 [(see details)](https://linktoreport.com/test-report) |",  # noqa: E501
}


@pytest.fixture
def server(start_server):
    return start_server(trusted_proxies=["127.0.0.1/32"], hook_burst=1000)


@pytest.fixture
async def tool(server) -> Any:
    """A program outside Counterline: no session, no token, its own address."""
    async with httpx.AsyncClient(
        base_url=server.url,
        headers={"X-Forwarded-For": TOOL_ADDRESS, "Accept-Language": "en"},
        timeout=20,
    ) as client:
        yield client


async def open_room(admin: Client, name: str, *members: str) -> int:
    response = await admin.http.post(
        "/api/v1/rooms",
        json={"name": name, "visibility": "invite_only"},
        headers={"X-CSRF-Token": admin.csrf_token},
    )
    assert response.status_code == 201, response.text
    room_id = response.json()["id"]
    for username in members:
        added = await admin.http.post(
            f"/api/v1/rooms/{room_id}/members",
            json={"username": username},
            headers={"X-CSRF-Token": admin.csrf_token},
        )
        assert added.status_code < 300, added.text
    return room_id


async def make_hook(
    admin: Client, room_id: int, name: str = "监控", *, override: bool = False
) -> dict[str, Any]:
    response = await admin.http.post(
        "/api/v1/hooks",
        json={"room_id": room_id, "name": name, "allow_username_override": override},
        headers={"X-CSRF-Token": admin.csrf_token},
    )
    assert response.status_code == 201, response.text
    return response.json()


def hook_path(hook: dict[str, Any]) -> str:
    return httpx.URL(hook["url"]).path


async def posted_by_hooks(services: Services, room_id: int) -> list[tuple[Message, User]]:
    async with services.reading() as unit:
        rows = await unit.session.execute(
            select(Message, User)
            .join(User, User.id == Message.author_id)
            .where(Message.room_id == room_id, User.username.like("hook-%"))
            .order_by(Message.id)
        )
        return [(message, user) for message, user in rows]


async def test_admin_sees_a_hooks_secret_once_and_never_in_the_list(
    login, services: Services, cast: Cast
) -> None:
    admin = await login("chengang")
    room_id = await open_room(admin, "社保卡监控")
    hook = await make_hook(admin, room_id, "社保系统监控")
    secret = hook["token"]
    assert hook["url"].endswith(f"/hooks/{secret}") and len(secret) > 40
    assert hook["room_name"] == "社保卡监控" and hook["created_by"] == "陈刚"
    listed = await admin.http.get("/api/v1/hooks")
    assert listed.status_code == 200
    assert [entry["id"] for entry in listed.json()["hooks"]] == [hook["id"]]
    assert secret not in listed.text and "token" not in listed.json()["hooks"][0]
    async with services.reading() as unit:
        stored = await unit.session.get(IncomingHook, hook["id"])
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        bot = await unit.session.get(User, stored.bot_user_id)
        [entry] = await unit.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "hook.created")
        )
    assert secret not in json.dumps(entry.details)
    assert (entry.actor_id, entry.target) == (cast["chengang"].id, f"hook:{hook['id']}")
    # The bot cannot log in, and nobody sees it among people.
    assert bot is not None and not bot.active and bot.display_name == "社保系统监控"
    assert (await Client(str(admin.http.base_url)).log_in(bot.username, "")).status_code == 401
    directory = await admin.http.get("/api/v1/users")
    assert bot.username not in directory.text


async def test_mattermost_documentation_payload_is_stored_and_delivered_live(
    login, server, tool: httpx.AsyncClient, services: Services, cast: Cast
) -> None:
    admin = await login("chengang")
    wang = await login("wangfang")
    room_id = await open_room(admin, "town-square", "wangfang")
    hook = await make_hook(admin, room_id, "测试机器人", override=True)
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie)
    try:
        await stream.next("ready")
        response = await tool.post(hook_path(hook), json=MATTERMOST_EXAMPLE)
        assert response.status_code == 200, response.text
        assert response.text == "ok"
        frame = await stream.next("message.posted")
    finally:
        await stream.close()
    live = frame["message"]
    assert live["room_id"] == room_id and live["body"] == MATTERMOST_EXAMPLE["text"]
    assert live["author"]["display_name"] == "test-automation"
    assert "<table>" in live["html"] and "linktoreport.com" in live["html"]
    [(message, bot)] = await posted_by_hooks(services, room_id)
    assert message.id == live["id"] and message.seq >= 1
    assert message.body == MATTERMOST_EXAMPLE["text"]
    assert message.client_ip == TOOL_ADDRESS
    assert message.author_branch_id == cast.branch_ids[HEAD_OFFICE]
    assert bot.display_name == "test-automation" and not bot.active
    history = await wang.http.get(f"/api/v1/rooms/{room_id}/messages")
    assert [m["id"] for m in history.json()["messages"]] == [message.id]
    found = await wang.http.get("/api/v1/search", params={"q": "review"})
    assert message.id in [hit["id"] for hit in found.json().get("messages", [])] or (
        str(message.id) in found.text
    )


async def test_form_encoded_payload_posts_like_json(
    login, tool: httpx.AsyncClient, services: Services
) -> None:
    admin = await login("chengang")
    room_id = await open_room(admin, "夜间批处理")
    hook = await make_hook(admin, room_id, "批处理")
    payload = json.dumps({"text": "批处理 **完成**：3 条失败", "channel": "夜间批处理"})
    response = await tool.post(hook_path(hook), data={"payload": payload})
    assert response.status_code == 200, response.text
    [(message, bot)] = await posted_by_hooks(services, room_id)
    assert message.body == "批处理 **完成**：3 条失败"
    assert "<strong>完成</strong>" in message.body_html
    assert bot.display_name == "批处理"


def _json(value: object) -> tuple[bytes, str]:
    return json.dumps(value).encode(), "application/json"


def _form(payload: str) -> tuple[bytes, str]:
    return urlencode({"payload": payload}).encode(), "application/x-www-form-urlencoded"


MALFORMED = {
    "not JSON": ((b'{"text": "half', "application/json"), 400, "JSON"),
    "a JSON list": (_json(["text"]), 400, "object"),
    "no text": (_json({"username": "x"}), 400, "text"),
    "blank text": (_json({"text": "  \n "}), 400, "text"),
    "text a number": (_json({"text": 42}), 400, "text"),
    "username a list": (_json({"text": "hi", "username": ["a"]}), 400, "username"),
    "text too long": (_json({"text": "长" * (MAX_BODY_LENGTH + 1)}), 400, str(MAX_BODY_LENGTH)),
    "lone surrogate": ((b'{"text": "a\\ud800b"}', "application/json"), 400, "Unicode"),
    "form lone surrogate": (_form('{"text": "a\\ud800b"}'), 400, "Unicode"),
    "form without payload": ((b"text=hello", "application/x-www-form-urlencoded"), 400, "payload"),
    "form with bad JSON": (_form("{text: hello}"), 400, "JSON"),
    "plain text": ((b"hello", "text/plain"), 415, "application/json"),
    "no content type": ((b'{"text": "hi"}', ""), 415, "application/json"),
    "too large": (_json({"text": "x" * MAX_PAYLOAD_BYTES}), 413, str(MAX_PAYLOAD_BYTES)),
    "another channel": (_json({"text": "hi", "channel": "off-topic"}), 403, "夜班"),
}


async def test_malformed_payloads_each_get_their_4xx_and_post_nothing(
    login, tool: httpx.AsyncClient, services: Services
) -> None:
    admin = await login("chengang")
    room_id = await open_room(admin, "夜班")
    path = hook_path(await make_hook(admin, room_id, override=True))
    for case, ((body, content_type), status, mentioned) in MALFORMED.items():
        headers = {"Content-Type": content_type} if content_type else {}
        response = await tool.post(path, content=body, headers=headers)
        assert response.status_code == status, (case, response.text)
        assert mentioned in response.json()["error"], (case, response.text)
    # In the caller's language: Chinese when asked for.
    chinese = await tool.post(path, json={}, headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 400 and "缺少 text" in chinese.json()["error"]
    assert await posted_by_hooks(services, room_id) == []


async def test_revoked_hook_answers_exactly_like_an_unknown_one(
    login, tool: httpx.AsyncClient, services: Services, cast: Cast
) -> None:
    admin = await login("chengang")
    room_id = await open_room(admin, "旧系统告警")
    hook = await make_hook(admin, room_id)
    assert (await tool.post(hook_path(hook), json={"text": "还在"})).status_code == 200
    revoked = await admin.http.delete(
        f"/api/v1/hooks/{hook['id']}", headers={"X-CSRF-Token": admin.csrf_token}
    )
    assert revoked.status_code == 204
    after = await tool.post(hook_path(hook), json={"text": "不该出现"})
    unknown = await tool.post("/hooks/clh_" + "x" * 43, json={"text": "不该出现"})
    assert after.status_code == unknown.status_code == 404
    assert after.json() == unknown.json() and after.json()["error"]
    assert [m.body for m, _ in await posted_by_hooks(services, room_id)] == ["还在"]
    assert (await admin.http.get("/api/v1/hooks")).json()["hooks"] == []
    again = await admin.http.delete(
        f"/api/v1/hooks/{hook['id']}", headers={"X-CSRF-Token": admin.csrf_token}
    )
    assert again.status_code == 404
    async with services.reading() as unit:
        [entry] = await unit.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "hook.revoked")
        )
    assert (entry.actor_id, entry.target) == (cast["chengang"].id, f"hook:{hook['id']}")


async def test_a_hook_revoked_through_another_process_stops_posting_there_too(
    server, start_server, login, services: Services
) -> None:
    """Two processes on one database: the other one has the hook in its cache, and the
    access feed makes it forget."""
    other = start_server(hook_burst=1000)
    admin = await login("chengang")
    room_id = await open_room(admin, "两台服务器")
    path = hook_path(await make_hook(admin, room_id))
    async with httpx.AsyncClient(base_url=other.url) as tool:
        assert (await tool.post(path, json={"text": "之前"})).status_code == 200
        [listed] = (await admin.http.get("/api/v1/hooks")).json()["hooks"]
        hook_id = listed["id"]
        answer = await admin.http.delete(
            f"/api/v1/hooks/{hook_id}", headers={"X-CSRF-Token": admin.csrf_token}
        )
        assert answer.status_code == 204

        async def refused() -> bool:
            return (await tool.post(path, json={"text": "之后"})).status_code == 404

        await wait_for(refused, 3, "the other process to refuse the revoked hook")
    first, *_ = await posted_by_hooks(services, room_id)
    assert first[0].body == "之前"


async def test_a_hook_posting_faster_than_its_rate_is_answered_429_with_retry_after(
    start_server, sign_in, services: Services
) -> None:
    live = start_server(hook_posts_per_second=0.5, hook_burst=3)
    admin = await sign_in(live, "chengang")
    room_id = await open_room(admin, "限速")
    fast, other = await make_hook(admin, room_id, "快"), await make_hook(admin, room_id, "慢")
    async with httpx.AsyncClient(base_url=live.url) as tool:
        answers = [(await tool.post(hook_path(fast), json={"text": f"{n}"})) for n in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        assert int(answers[3].headers["Retry-After"]) == 2
        assert answers[3].json()["error"]
        assert (await tool.post(hook_path(other), json={"text": "另一个"})).status_code == 200
    stored = [message.body for message, _ in await posted_by_hooks(services, room_id)]
    assert stored == ["0", "1", "2", "另一个"]


def test_token_buckets_refill_at_their_rate_up_to_the_burst() -> None:
    now = [100.0]
    buckets = TokenBuckets(rate=2, burst=2, clock=lambda: now[0])
    assert [buckets.take("a"), buckets.take("a"), buckets.take("a")] == [0, 0, 1]
    assert buckets.take("b") == 0
    now[0] += 0.5
    assert [buckets.take("a"), buckets.take("a")] == [0, 1]
    now[0] += 60
    assert [buckets.take("a"), buckets.take("a"), buckets.take("a")] == [0, 0, 1]


async def test_a_post_shows_its_username_only_when_the_hook_allows_it(
    login, tool: httpx.AsyncClient, services: Services
) -> None:
    admin = await login("chengang")
    room_id = await open_room(admin, "告警汇总")
    strict = await make_hook(admin, room_id, "固定名")
    free = await make_hook(admin, room_id, "可改名", override=True)
    for hook, username in (
        (strict, "冒充者"),
        (free, "Zabbix"),
        (free, "Zabbix"),
        (free, "Nagios"),
    ):
        response = await tool.post(hook_path(hook), json={"text": "x", "username": username})
        assert response.status_code == 200, response.text
    authors = [(bot.id, bot.display_name) for _, bot in await posted_by_hooks(services, room_id)]
    assert [name for _, name in authors] == ["固定名", "Zabbix", "Zabbix", "Nagios"]
    assert authors[1][0] == authors[2][0] != authors[3][0]


async def test_only_administrators_manage_hooks(login, cast: Cast) -> None:
    admin = await login("chengang")
    room_id = await open_room(admin, "管理测试")
    hook = await make_hook(admin, room_id)
    for username in ("wangfang", "zhangwei", "zhaomin"):
        someone = await login(username)
        csrf = {"X-CSRF-Token": someone.csrf_token}
        answers = [
            await someone.http.post(
                "/api/v1/hooks", json={"room_id": room_id, "name": "x"}, headers=csrf
            ),
            await someone.http.get("/api/v1/hooks"),
            await someone.http.delete(f"/api/v1/hooks/{hook['id']}", headers=csrf),
        ]
        assert [a.status_code for a in answers] == [403, 403, 403], username
    assert [h["id"] for h in (await admin.http.get("/api/v1/hooks")).json()["hooks"]] == [
        hook["id"]
    ]


async def test_hooks_post_into_rooms_only_under_a_valid_name(login, cast: Cast) -> None:
    admin = await login("chengang")
    csrf = {"X-CSRF-Token": admin.csrf_token}
    conversation = await admin.http.post(
        "/api/v1/conversations", json={"members": ["wangfang"]}, headers=csrf
    )
    assert conversation.status_code < 300, conversation.text
    answers = {
        "conversation": (conversation.json()["id"], "x"),
        "unknown room": (10**9, "x"),
        "blank name": (cast.company_room_id, "  "),
        "long name": (cast.company_room_id, "名" * 65),
    }
    for case, (room_id, name) in answers.items():
        response = await admin.http.post(
            "/api/v1/hooks", json={"room_id": room_id, "name": name}, headers=csrf
        )
        assert response.status_code == (404 if "name" not in case else 400), (case, response.text)
