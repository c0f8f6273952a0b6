"""Who sees which rooms; topic rooms, public and invite-only, against the live server."""

from __future__ import annotations

from typing import Any

from tests.cast import CHENGBEI, HEAD_OFFICE, HUAQIAO, Cast
from tests.support.clients import Client


async def room_names(client: Client) -> list[str]:
    listing = await client.http.get("/api/v1/rooms")
    assert listing.status_code == 200
    return [room["name"] for room in listing.json()["rooms"]]


async def create_room(client: Client, name: str, visibility: str = "public") -> Any:
    return await client.http.post(
        "/api/v1/rooms",
        json={"name": name, "visibility": visibility},
        headers={"X-CSRF-Token": client.csrf_token},
    )


async def join(client: Client, room_id: int) -> Any:
    return await client.http.put(
        f"/api/v1/rooms/{room_id}/membership", headers={"X-CSRF-Token": client.csrf_token}
    )


async def invite(client: Client, room_id: int, username: str) -> Any:
    return await client.http.post(
        f"/api/v1/rooms/{room_id}/members",
        json={"username": username},
        headers={"X-CSRF-Token": client.csrf_token},
    )


async def test_each_user_sees_the_company_room_and_their_own_branch_room(login) -> None:
    assert await room_names(await login("wangfang")) == ["全公司", CHENGBEI]
    assert await room_names(await login("lina")) == ["全公司", HUAQIAO]
    assert await room_names(await login("zhangwei")) == ["全公司", HEAD_OFFICE]


async def test_another_branch_room_is_hidden_and_its_messages_not_found(login, cast: Cast) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    assert (await wang.post_message(cast.branch_room_ids[CHENGBEI], "内部", "inside-01")).is_success
    room_id = cast.branch_room_ids[CHENGBEI]
    history = await li.http.get(f"/api/v1/rooms/{room_id}/messages")
    assert history.status_code == 404
    assert history.json()["error"]
    posting = await li.post_message(room_id, "闯入", "intrude-01")
    assert posting.status_code == 404
    joining = await join(li, room_id)
    assert joining.status_code == 404
    assert CHENGBEI not in await room_names(li)


async def test_trainer_and_admin_create_topic_rooms(login) -> None:
    zhang = await login("zhangwei")
    chen = await login("chengang")
    by_trainer = await create_room(zhang, "医保新政答疑")
    by_admin = await create_room(chen, "系统通知", "invite_only")
    assert by_trainer.status_code == 201, by_trainer.text
    assert by_trainer.json()["kind"] == "topic"
    assert by_trainer.json()["visibility"] == "public"
    assert by_admin.status_code == 201
    assert by_admin.json()["visibility"] == "invite_only"
    assert "医保新政答疑" in await room_names(zhang)
    assert "系统通知" in await room_names(chen)


async def test_clerk_and_manager_cannot_create_topic_rooms(login) -> None:
    for username in ("wangfang", "zhaomin"):
        client = await login(username)
        response = await create_room(client, "我想开个群")
        assert response.status_code == 403, username
        assert response.json()["error"]
    zhang = await login("zhangwei")
    listing = (await zhang.http.get("/api/v1/rooms")).json()
    assert "我想开个群" not in [room["name"] for room in listing["rooms"] + listing["joinable"]]


async def test_topic_room_names_are_checked(login) -> None:
    zhang = await login("zhangwei")
    for name in ("", "   ", "长" * 101):
        response = await create_room(zhang, name)
        assert response.status_code in (400, 422), name
        assert response.json()["error"]


async def test_public_topic_room_is_listed_as_joinable_and_can_be_joined(login, cast: Cast) -> None:
    zhang = await login("zhangwei")
    room = (await create_room(zhang, "不动产登记")).json()
    li = await login("lina")
    listing = (await li.http.get("/api/v1/rooms")).json()
    assert [r["id"] for r in listing["joinable"]] == [room["id"]]
    assert (await li.http.get(f"/api/v1/rooms/{room['id']}/messages")).status_code == 404
    joined = await join(li, room["id"])
    assert joined.status_code == 200
    assert joined.json()["id"] == room["id"]
    assert (await join(li, room["id"])).status_code == 200
    listing = (await li.http.get("/api/v1/rooms")).json()
    assert "不动产登记" in [r["name"] for r in listing["rooms"]]
    assert listing["joinable"] == []
    assert (await li.post_message(room["id"], "我来了", "joined-0001")).status_code == 201
    history = (await zhang.http.get(f"/api/v1/rooms/{room['id']}/messages")).json()
    assert [m["body"] for m in history["messages"]] == ["我来了"]


async def test_invite_only_room_is_hidden_until_its_creator_adds_a_member(login) -> None:
    zhang = await login("zhangwei")
    room = (await create_room(zhang, "培训讲师组", "invite_only")).json()
    li = await login("lina")
    listing = (await li.http.get("/api/v1/rooms")).json()
    assert room["id"] not in [r["id"] for r in listing["rooms"] + listing["joinable"]]
    assert (await join(li, room["id"])).status_code == 404
    added = await invite(zhang, room["id"], "lina")
    assert added.status_code == 200, added.text
    assert "培训讲师组" in await room_names(li)
    assert (await li.post_message(room["id"], "谢谢邀请", "invited-001")).status_code == 201


async def test_only_the_creator_or_an_admin_adds_members_to_a_topic_room(login, cast: Cast) -> None:
    zhang = await login("zhangwei")
    room = (await create_room(zhang, "讲师内部", "invite_only")).json()
    assert (await invite(zhang, room["id"], "lina")).status_code == 200
    li = await login("lina")
    wang = await login("wangfang")
    by_member = await invite(li, room["id"], "zhouqiang")
    by_outsider = await invite(wang, room["id"], "wangfang")
    assert by_member.status_code == 403
    assert by_member.json()["error"]
    assert by_outsider.status_code == 404
    zhou = await login("zhouqiang")
    assert "讲师内部" not in await room_names(zhou)
    assert "讲师内部" not in await room_names(wang)
    chen = await login("chengang")
    company = await invite(chen, cast.company_room_id, "zhouqiang")
    assert company.status_code == 400
    unknown_user = await invite(zhang, room["id"], "nobody")
    assert unknown_user.status_code == 404


async def test_admin_adds_a_member_to_a_room_she_is_not_in(login) -> None:
    zhang = await login("zhangwei")
    chen = await login("chengang")
    room = (await create_room(zhang, "讲师备课", "invite_only")).json()
    added = await invite(chen, room["id"], "wangfang")
    assert added.status_code == 200
    wang = await login("wangfang")
    names = [r["name"] for r in (await wang.http.get("/api/v1/rooms")).json()["rooms"]]
    assert "讲师备课" in names
