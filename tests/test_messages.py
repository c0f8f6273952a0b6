"""Posting messages on the record, and reading history, against the live server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from counterline.accounts.actions import get_branch_named, get_user_named
from counterline.db import utcnow
from counterline.messages.models import Message
from counterline.messages.rendering import render_body
from counterline.people.actions import move_user
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import open_stream
from tests.support.rows import count_rows


async def stored_messages(services: Services) -> list[Message]:
    async with services.reading() as unit:
        return list(await unit.session.scalars(select(Message).order_by(Message.id)))


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_message_is_stored_with_author_branch_address_and_utc_server_time(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    before = utcnow()
    response = await wang.post_message(
        cast.company_room_id, "今天社保卡补办排队长吗", "client-0001"
    )
    after = utcnow()
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["author"] == {
        "id": cast["wangfang"].id,
        "username": "wangfang",
        "display_name": "王芳",
    }
    assert out["branch"] == {"id": cast.branch_ids[CHENGBEI], "name": CHENGBEI}
    assert out["room_id"] == cast.company_room_id
    assert out["client_id"] == "client-0001"
    sent_at = parse_time(out["created_at"])
    assert sent_at.utcoffset().total_seconds() == 0
    assert before <= sent_at <= after
    [row] = await stored_messages(services)
    assert row.id == out["id"]
    assert row.author_id == cast["wangfang"].id
    assert row.author_branch_id == cast.branch_ids[CHENGBEI]
    assert row.client_ip == "127.0.0.1"
    assert row.body == "今天社保卡补办排队长吗"
    assert row.created_at == sent_at


async def test_moved_user_old_messages_keep_the_old_branch(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    old = await wang.post_message(cast.company_room_id, "城北发的", "before-move-1")
    async with services.transaction() as unit:
        user = await get_user_named(unit, "wangfang")
        await move_user(unit, user, await get_branch_named(unit, HUAQIAO), actor_id=None)
    new = await wang.post_message(cast.company_room_id, "花桥发的", "after-move-01")
    assert old.json()["branch"]["name"] == CHENGBEI
    assert new.status_code == 201, new.text
    assert new.json()["branch"]["name"] == HUAQIAO
    history = (await wang.http.get(f"/api/v1/rooms/{cast.company_room_id}/messages")).json()
    assert [(m["body"], m["branch"]["name"]) for m in history["messages"]] == [
        ("城北发的", CHENGBEI),
        ("花桥发的", HUAQIAO),
    ]
    rows = await stored_messages(services)
    assert [row.author_branch_id for row in rows] == [
        cast.branch_ids[CHENGBEI],
        cast.branch_ids[HUAQIAO],
    ]
    old_room = await wang.http.get(f"/api/v1/rooms/{cast.branch_room_ids[CHENGBEI]}/messages")
    assert old_room.status_code == 404


async def test_client_ip_is_shown_to_managers_and_admins_only(login, cast: Cast) -> None:
    wang = await login("wangfang")
    posted = await wang.post_message(cast.company_room_id, "谁能看到我的地址", "ip-check-001")
    assert posted.json()["client_ip"] is None
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"
    for username, sees in [
        ("zhaomin", True),
        ("chengang", True),
        ("wangfang", False),
        ("lina", False),
        ("zhangwei", False),
    ]:
        viewer = wang if username == "wangfang" else await login(username)
        [message] = (await viewer.http.get(url)).json()["messages"]
        assert message["client_ip"] == ("127.0.0.1" if sees else None), username


async def test_client_ip_is_in_stream_frames_for_managers_only(login, server, cast: Cast) -> None:
    wang = await login("wangfang")
    zhao = await login("zhaomin")
    li = await login("lina")
    await wang.post_message(cast.company_room_id, "补发的", "ip-stream-01")
    manager = await open_stream(server.ws_url, cookie=zhao.session_cookie, last_message_id=0)
    clerk = await open_stream(server.ws_url, cookie=li.session_cookie, last_message_id=0)
    try:
        replayed_to_manager = await manager.next("message.posted")
        replayed_to_clerk = await clerk.next("message.posted")
        await manager.next("ready")
        await clerk.next("ready")
        await wang.post_message(cast.company_room_id, "实时的", "ip-stream-02")
        live_to_manager = await manager.next("message.posted")
        live_to_clerk = await clerk.next("message.posted")
    finally:
        await manager.close()
        await clerk.close()
    assert replayed_to_manager["message"]["client_ip"] == "127.0.0.1"
    assert live_to_manager["message"]["client_ip"] == "127.0.0.1"
    assert "client_ip" not in replayed_to_clerk["message"]
    assert "client_ip" not in live_to_clerk["message"]
    assert live_to_clerk["message"]["body"] == "实时的"


async def test_forwarded_for_header_is_ignored_from_an_untrusted_peer(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    response = await wang.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        json={"body": "伪造地址", "client_id": "spoofed-0001"},
        headers={"X-CSRF-Token": wang.csrf_token, "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 201
    [row] = await stored_messages(services)
    assert row.client_ip == "127.0.0.1"


async def test_forwarded_for_header_is_honoured_from_a_trusted_proxy(
    start_server, sign_in, services: Services, cast: Cast
) -> None:
    live = start_server(trusted_proxies=["127.0.0.1/32"])
    wang = await sign_in(live, "wangfang")
    for number, forwarded in enumerate(["203.0.113.9", "198.51.100.7, 203.0.113.10"]):
        response = await wang.http.post(
            f"/api/v1/rooms/{cast.company_room_id}/messages",
            json={"body": f"经代理 {number}", "client_id": f"proxied-{number:04}"},
            headers={"X-CSRF-Token": wang.csrf_token, "X-Forwarded-For": forwarded},
        )
        assert response.status_code == 201
    assert [row.client_ip for row in await stored_messages(services)] == [
        "203.0.113.9",
        "203.0.113.10",
    ]


BAD_POSTS = [
    ("empty-body", {"body": "", "client_id": "bad-post-01"}, None, 400),
    ("whitespace-body", {"body": " \n\t  \r\n", "client_id": "bad-post-02"}, None, 400),
    ("body-of-10001-chars", {"body": "字" * 10_001, "client_id": "bad-post-03"}, None, 400),
    ("room-of-another-branch", {"body": "串门", "client_id": "bad-post-04"}, HUAQIAO, 404),
    ("unknown-room", {"body": "有人吗", "client_id": "bad-post-05"}, 999_999, 404),
    ("missing-client-id", {"body": "没有编号"}, None, 422),
    ("malformed-client-id", {"body": "编号不对", "client_id": "含 空格"}, None, 422),
    ("body-not-text", {"body": ["列表"], "client_id": "bad-post-08"}, None, 422),
]


@pytest.mark.parametrize(
    ("payload", "room", "status"),
    [case[1:] for case in BAD_POSTS],
    ids=[case[0] for case in BAD_POSTS],
)
async def test_bad_message_is_refused_with_a_message_and_nothing_is_stored(
    login, services: Services, cast: Cast, payload: dict, room: str | int | None, status: int
) -> None:
    wang = await login("wangfang")
    if room is None:
        room_id = cast.company_room_id
    elif isinstance(room, str):
        room_id = cast.branch_room_ids[room]
    else:
        room_id = room
    response = await wang.http.post(
        f"/api/v1/rooms/{room_id}/messages",
        json=payload,
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert response.status_code == status, response.text
    assert isinstance(response.json()["error"], str) and response.json()["error"]
    assert await count_rows(services, Message) == 0


async def test_malformed_json_is_refused_with_a_message(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    response = await wang.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        content=b'{"body": "half", "client_id": ',
        headers={"X-CSRF-Token": wang.csrf_token, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]
    assert await count_rows(services, Message) == 0


async def test_message_of_exactly_ten_thousand_characters_is_accepted(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    body = "长" * 10_000
    response = await wang.post_message(cast.company_room_id, body, "long-post-01")
    assert response.status_code == 201
    [row] = await stored_messages(services)
    assert row.body == body


async def test_retry_with_the_same_client_id_returns_the_stored_message_once(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    first = await wang.post_message(cast.company_room_id, "只发一次", "retry-00001")
    again = await wang.post_message(cast.company_room_id, "只发一次", "retry-00001")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await count_rows(services, Message) == 1


async def test_same_client_id_with_another_body_or_room_is_a_conflict(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    assert (await wang.post_message(cast.company_room_id, "原文", "conflict-01")).status_code == 201
    other_body = await wang.post_message(cast.company_room_id, "改过的", "conflict-01")
    other_room = await wang.post_message(cast.branch_room_ids[CHENGBEI], "原文", "conflict-01")
    assert other_body.status_code == 409
    assert other_body.json()["error"]
    assert other_room.status_code == 409
    assert [row.body for row in await stored_messages(services)] == ["原文"]


async def test_client_ids_belong_to_their_author(login, services: Services, cast: Cast) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    assert (
        await wang.post_message(cast.company_room_id, "我的", "shared-id-01")
    ).status_code == 201
    assert (await li.post_message(cast.company_room_id, "她的", "shared-id-01")).status_code == 201
    assert await count_rows(services, Message) == 2


async def post_numbered(client, room_id: int, count: int) -> list[int]:
    ids = []
    for number in range(1, count + 1):
        response = await client.post_message(room_id, f"第{number}条", f"numbered-{number:04}")
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


async def test_history_pages_back_from_the_newest_to_the_start(login, cast: Cast) -> None:
    wang = await login("wangfang")
    ids = await post_numbered(wang, cast.company_room_id, 7)
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"
    newest = (await wang.http.get(url, params={"limit": 3})).json()
    assert [m["id"] for m in newest["messages"]] == ids[4:7]
    assert newest["has_more"] is True
    middle = (await wang.http.get(url, params={"limit": 3, "before": ids[4]})).json()
    assert [m["id"] for m in middle["messages"]] == ids[1:4]
    assert middle["has_more"] is True
    start = (await wang.http.get(url, params={"limit": 3, "before": ids[1]})).json()
    assert [m["id"] for m in start["messages"]] == ids[0:1]
    assert start["has_more"] is False
    exact = (await wang.http.get(url, params={"limit": 7})).json()
    assert [m["id"] for m in exact["messages"]] == ids
    assert exact["has_more"] is False


async def test_history_after_an_id_goes_forward(login, cast: Cast) -> None:
    wang = await login("wangfang")
    ids = await post_numbered(wang, cast.company_room_id, 5)
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"
    first = (await wang.http.get(url, params={"after": 0, "limit": 3})).json()
    assert [m["id"] for m in first["messages"]] == ids[:3]
    assert first["has_more"] is True
    rest = (await wang.http.get(url, params={"after": ids[2], "limit": 3})).json()
    assert [m["id"] for m in rest["messages"]] == ids[3:]
    assert rest["has_more"] is False
    none = (await wang.http.get(url, params={"after": ids[4]})).json()
    assert none == {"messages": [], "has_more": False}


async def test_history_by_day_uses_the_local_time_zone(
    login, services: Services, cast: Cast
) -> None:
    stamps = {
        "28日深夜": datetime(2026, 11, 28, 15, 30, tzinfo=UTC),
        "29日凌晨": datetime(2026, 11, 28, 17, 30, tzinfo=UTC),
        "30日凌晨": datetime(2026, 11, 29, 16, 30, tzinfo=UTC),
    }
    async with services.transaction() as unit:
        for number, (body, at) in enumerate(stamps.items()):
            unit.session.add(
                Message(
                    room_id=cast.company_room_id,
                    author_id=cast["wangfang"].id,
                    author_branch_id=cast.branch_ids[CHENGBEI],
                    client_id=f"seeded-{number:04}",
                    client_ip="10.1.2.3",
                    body=body,
                    body_html=render_body(body),
                    created_at=at,
                )
            )
    wang = await login("wangfang")
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"

    async def bodies(day: str, limit: int = 50) -> tuple[list[str], bool]:
        page = (await wang.http.get(url, params={"day": day, "limit": limit})).json()
        return [m["body"] for m in page["messages"]], page["has_more"]

    assert await bodies("2026-11-28") == (["28日深夜", "29日凌晨", "30日凌晨"], False)
    assert await bodies("2026-11-29") == (["29日凌晨", "30日凌晨"], False)
    assert await bodies("2026-11-29", limit=1) == (["29日凌晨"], True)
    assert await bodies("2026-11-30") == (["30日凌晨"], False)
    assert await bodies("2026-12-01") == ([], False)
    page = (await wang.http.get(url, params={"day": "2026-11-29", "limit": 1})).json()
    assert parse_time(page["messages"][0]["created_at"]) == stamps["29日凌晨"]


async def test_history_limit_is_bounded(login, cast: Cast) -> None:
    wang = await login("wangfang")
    await post_numbered(wang, cast.company_room_id, 2)
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"
    for limit in (0, -1, 201):
        response = await wang.http.get(url, params={"limit": limit})
        assert response.status_code == 422, limit
        assert response.json()["error"]
    for limit in (1, 200):
        assert (await wang.http.get(url, params={"limit": limit})).status_code == 200
    both = await wang.http.get(url, params={"before": 5, "after": 1})
    assert both.status_code == 400
    assert both.json()["error"]


async def test_history_of_a_room_one_is_not_in_is_not_found(login, cast: Cast) -> None:
    li = await login("lina")
    for room_id in (cast.branch_room_ids[CHENGBEI], 999_999):
        response = await li.http.get(f"/api/v1/rooms/{room_id}/messages")
        assert response.status_code == 404
        assert response.json()["error"]
