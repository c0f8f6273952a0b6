"""Mentions: @person (username or Chinese name), @branch, @role (Chinese or English) and @all,
resolved when posted against the members of the room, outside code, shown as a sanitised
span, and an @all in a room of more than 50 people only once confirmed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from counterline.accounts.models import Role, User
from counterline.messages.mentions import Member, RoomMembers
from counterline.messages.models import Message
from counterline.messages.rendering import render_with_mentions
from counterline.rooms.models import Membership
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, QUICK_HASH, Cast
from tests.support.clients import Client
from tests.support.render_corpus import outside_the_allow_list

ROOM = RoomMembers(
    "topic",
    [
        Member(1, "wangfang", "王芳", 10, CHENGBEI, "clerk"),
        Member(2, "zhangwei", "张伟", 11, "总部", "trainer"),
        Member(3, "zhaomin", "赵敏", 10, CHENGBEI, "manager"),
    ],
)


def found(text: str) -> list[tuple[str, Any]]:
    html, mentions = render_with_mentions(text, ROOM.tokens())
    assert outside_the_allow_list(html) == []
    return [(m.kind, m.id if m.id is not None else m.name) for m in mentions]


def test_people_by_username_or_chinese_name_even_without_a_space_after() -> None:
    assert found("@wangfang 请看") == [("user", 1)]
    assert found("@王芳请看一下，@张伟。") == [("user", 1), ("user", 2)]
    assert found("(@WangFang)") == [("user", 1)]


def test_branches_roles_in_chinese_and_english_and_all() -> None:
    assert found(f"@{CHENGBEI} 注意") == [("branch", 10)]
    assert found("@培训师 @trainers @经理") == [
        ("role", "trainer"),
        ("role", "trainer"),
        ("role", "manager"),
    ]
    assert found("@all @所有人") == [("all", "all"), ("all", "all")]


def test_code_addresses_unknown_names_and_non_members_stay_text() -> None:
    assert found("`@王芳` and\n```\n@all\n```") == []
    assert found("mail wangfang@example.com or x@王芳") == []
    assert found("@wangfangx @nobody @李娜 @花桥营业厅 @管理员") == []  # not in the room
    html, _ = render_with_mentions("@nobody 你好", ROOM.tokens())
    assert html == "<p>@nobody 你好</p>"


def test_a_mention_renders_as_a_span_showing_the_name_with_the_username_in_a_title() -> None:
    html, _ = render_with_mentions("@wangfang 好", ROOM.tokens())
    assert html == (
        '<p><span class="mention" data-mention-kind="user" data-mention="wangfang" '
        'title="@wangfang">@王芳</span> 好</p>'
    )
    html, _ = render_with_mentions(f"**@{CHENGBEI}**", ROOM.tokens())
    assert html == (
        '<p><strong><span class="mention" data-mention-kind="branch" '
        f'data-mention="{CHENGBEI}">@{CHENGBEI}</span></strong></p>'
    )


def test_hostile_names_are_escaped_inside_the_span() -> None:
    room = RoomMembers("topic", [Member(9, "x", '"><script>alert(1)</script>', 1, "b", "clerk")])
    html, mentions = render_with_mentions('@"><script>alert(1)</script>', room.tokens())
    assert [m.id for m in mentions] == [9]
    assert "<script>" not in html
    assert outside_the_allow_list(html) == []


async def test_posting_stores_and_shows_resolved_mentions(login, cast: Cast) -> None:
    zhang = await login("zhangwei")
    response = await zhang.post_message(
        cast.company_room_id,
        f"@王芳 @{CHENGBEI} @培训师 @nobody `@all` 谢谢",
        "mention-0001",
    )
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["mentions"] == [
        {"kind": "user", "id": cast["wangfang"].id, "name": "wangfang"},
        {"kind": "branch", "id": cast.branch_ids[CHENGBEI], "name": CHENGBEI},
        {"kind": "role", "id": None, "name": "trainer"},
    ]
    assert 'data-mention="wangfang"' in out["html"]
    assert "@nobody" in out["html"] and "<code>@all</code>" in out["html"]
    wang = await login("wangfang")
    history = (await wang.http.get(f"/api/v1/rooms/{cast.company_room_id}/messages")).json()
    assert history["messages"][-1]["mentions"] == out["mentions"]
    plain = await wang.post_message(cast.company_room_id, "没有提到谁", "mention-0002")
    assert plain.json()["mentions"] == []


async def test_a_person_outside_the_room_is_not_mentioned(login, cast: Cast) -> None:
    wang = await login("wangfang")
    # 李娜 is not in 城北's branch room.
    response = await wang.post_message(
        cast.branch_room_ids[CHENGBEI], f"@李娜 @lina @{HUAQIAO}", "mention-0003"
    )
    assert response.status_code == 201, response.text
    assert response.json()["mentions"] == []
    assert "mention" not in response.json()["html"]


async def crowd(services: Services, room_id: int, branch_id: int, count: int) -> None:
    async with services.transaction() as unit:
        for n in range(count):
            user = User(
                username=f"crowd{n:03}",
                display_name=f"群众{n:03}",
                branch_id=branch_id,
                role=Role.clerk,
                password_hash=QUICK_HASH,
            )
            unit.session.add(user)
            await unit.session.flush()
            unit.session.add(Membership(room_id=room_id, user_id=user.id))


async def post_all(client: Client, room_id: int, client_id: str, **extra: Any) -> Any:
    return await client.http.post(
        f"/api/v1/rooms/{room_id}/messages",
        json={"body": "@所有人 下午三点开会", "client_id": client_id, **extra},
        headers={"X-CSRF-Token": client.csrf_token},
    )


async def stored_count(services: Services) -> int:
    async with services.reading() as unit:
        return len(list(await unit.session.scalars(select(Message.id))))


@pytest.mark.parametrize("crowd_size", [44, 45])
async def test_all_in_a_room_of_more_than_fifty_asks_for_confirmation_first(
    login, services: Services, cast: Cast, crowd_size: int
) -> None:
    # The company room holds the cast's six: 44 more make 50, 45 more make 51.
    await crowd(services, cast.company_room_id, cast.branch_ids[CHENGBEI], crowd_size)
    zhang = await login("zhangwei")
    first = await post_all(zhang, cast.company_room_id, "all-00000001")
    if crowd_size == 44:
        assert first.status_code == 201, first.text
        assert first.json()["mentions"] == [{"kind": "all", "id": None, "name": "all"}]
        # In a crowd, only who the tokens may name is looked up: still the right people.
        some = await zhang.post_message(
            cast.company_room_id, "@群众003你好 @CROWD010 @crowd0 @群众", "all-00000002"
        )
        assert [m["name"] for m in some.json()["mentions"]] == ["crowd003", "crowd010"]
        return
    assert first.status_code == 409, first.text
    assert "51" in first.json()["error"]
    assert await stored_count(services) == 0
    confirmed = await post_all(zhang, cast.company_room_id, "all-00000001", confirm_all=True)
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["mentions"] == [{"kind": "all", "id": None, "name": "all"}]
