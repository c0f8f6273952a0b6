"""Direct messages and group conversations against the live server: one 1:1 room per pair
(even when both start it at once), groups of up to 20, and nobody else (an administrator
included) reads, lists, posts to or hears a conversation, whatever ids they guess."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from counterline.accounts.actions import get_branch_named, get_user_named, set_active
from counterline.accounts.models import Role
from counterline.people.actions import add_user
from counterline.rooms.models import Room, RoomKind
from counterline.rooms.schemas import RoomList
from counterline.services import Services
from tests.cast import CHENGBEI, Cast
from tests.support.clients import Client, message_ids, open_stream, post
from tests.support.waiting import frames_until_pong

CONVERSATIONS = "/api/v1/conversations"


async def start(client: Client, members: list[str], **extra: Any) -> Any:
    return await client.http.post(
        CONVERSATIONS,
        json={"members": members, **extra},
        headers={"X-CSRF-Token": client.csrf_token},
    )


async def listed(client: Client) -> dict[int, dict[str, Any]]:
    response = await client.http.get("/api/v1/rooms")
    assert response.status_code == 200
    return {room["id"]: room for room in response.json()["rooms"]}


async def conversation_count(services: Services) -> int:
    async with services.reading() as unit:
        count = await unit.session.scalar(
            select(func.count()).select_from(Room).where(Room.kind == RoomKind.conversation)
        )
    return count or 0


async def test_a_direct_message_is_made_once_and_both_people_get_it_back(login) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    first = await start(wang, ["lina"])
    assert first.status_code == 201, first.text
    room = first.json()
    assert room["kind"] == "conversation"
    assert room["name"] == "李娜"  # the other person, for each of the two
    assert {member["username"] for member in room["members"]} == {"wangfang", "lina"}
    again = await start(wang, ["lina", " lina ", "wangfang"])
    assert again.status_code == 200, again.text
    assert again.json()["id"] == room["id"]
    theirs = await start(li, ["wangfang"])
    assert theirs.status_code == 200
    assert theirs.json()["id"] == room["id"]
    assert theirs.json()["name"] == "王芳"
    for client, title in ((wang, "李娜"), (li, "王芳")):
        rooms = await listed(client)
        assert rooms[room["id"]]["kind"] == "conversation"
        assert rooms[room["id"]]["name"] == title
        assert len(rooms[room["id"]]["members"]) == 2
        assert list(rooms)[-1] == room["id"]  # after the company, branch and topic rooms
    assert (await post(wang, room["id"], "你好，李娜", "dm-hello-01")) > 0
    history = (await li.http.get(f"/api/v1/rooms/{room['id']}/messages")).json()
    assert [message["body"] for message in history["messages"]] == ["你好，李娜"]


async def test_two_people_starting_the_same_conversation_at_once_get_one_room(
    login, services: Services
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    answers = await asyncio.gather(
        *(
            start(client, [other])
            for _ in range(6)
            for client, other in ((wang, "lina"), (li, "wangfang"))
        )
    )
    assert sorted(answer.status_code for answer in answers) == [200] * 11 + [201], [
        answer.text for answer in answers
    ]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert await conversation_count(services) == 1


async def test_the_room_list_is_the_documented_shape_to_the_last_field(login) -> None:
    wang, zhang = await login("wangfang"), await login("zhangwei")
    assert (await start(wang, ["lina"])).status_code == 201
    assert (await start(wang, ["lina", "zhouqiang"], name="交接小组")).status_code == 201
    opened = await zhang.http.post(
        "/api/v1/rooms",
        json={"name": "新资费答疑"},
        headers={"X-CSRF-Token": zhang.csrf_token},
    )
    assert opened.status_code == 201, opened.text
    answer = (await wang.http.get("/api/v1/rooms")).json()
    # Built from rows as plain data (rooms.conversations.room_list_of): exactly the model.
    assert RoomList.model_validate(answer).model_dump(mode="json") == answer
    kinds = [room["kind"] for room in answer["rooms"]]
    assert kinds == ["company", "branch", "conversation", "conversation"]
    names = {room["name"] for room in answer["rooms"] if room["kind"] == "conversation"}
    assert names == {"李娜", "交接小组"}
    assert [room["name"] for room in answer["joinable"]] == ["新资费答疑"]


async def test_group_conversations_are_new_each_time_and_named_by_their_members(login) -> None:
    wang = await login("wangfang")
    first = await start(wang, ["lina", "zhouqiang"])
    second = await start(wang, ["zhouqiang", "lina"], name="  周末排班  ")
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["name"] == "王芳、李娜、周强"
    assert second.json()["name"] == "周末排班"
    assert len(first.json()["members"]) == 3
    zhou = await login("zhouqiang")
    assert {first.json()["id"], second.json()["id"]} <= set(await listed(zhou))


async def test_a_conversation_has_at_most_20_people_and_only_active_ones(
    login, services: Services
) -> None:
    async with services.transaction() as unit:
        branch = await get_branch_named(unit, CHENGBEI)
        for number in range(20):
            await add_user(
                unit,
                username=f"clerk{number:02}",
                display_name=f"柜员{number:02}",
                branch=branch,
                role=Role.clerk,
                password="counter-pass-1",
            )
        departed = await get_user_named(unit, "zhouqiang")
        await set_active(unit, departed, False, actor_id=None)
    wang = await login("wangfang")
    nineteen = [f"clerk{number:02}" for number in range(19)]
    full = await start(wang, nineteen)
    assert full.status_code == 201, full.text
    assert len(full.json()["members"]) == 20
    too_many = await start(wang, [*nineteen, "clerk19"])
    assert too_many.status_code == 400
    assert "20" in too_many.json()["error"]
    unknown = await start(wang, ["lina", "nobody", "zhouqiang"])
    assert unknown.status_code == 400
    assert "nobody" in unknown.json()["error"]
    assert "zhouqiang" in unknown.json()["error"]  # inactive
    assert "lina" not in unknown.json()["error"]
    for members in ([], ["wangfang"], ["  "]):
        alone = await start(wang, members)
        assert alone.status_code == 400, members
        assert alone.json()["error"]
    assert (await start(wang, ["x" * 65])).status_code == 422


async def test_nobody_outside_a_conversation_reads_lists_posts_or_joins_it(login) -> None:
    wang = await login("wangfang")
    room_id = (await start(wang, ["lina"])).json()["id"]
    await post(wang, room_id, "只给李娜看", "dm-private-1")
    for username in ("zhouqiang", "chengang"):  # a clerk, and an administrator
        outsider = await login(username)
        csrf = {"X-CSRF-Token": outsider.csrf_token}
        assert room_id not in await listed(outsider), username
        listing = (await outsider.http.get("/api/v1/rooms")).json()
        assert room_id not in [room["id"] for room in listing["joinable"]]
        refusals = [
            await outsider.http.get(f"/api/v1/rooms/{room_id}/messages"),
            await outsider.post_message(room_id, "我也来", f"dm-intrude-{username}"),
            await outsider.http.put(f"/api/v1/rooms/{room_id}/membership", headers=csrf),
            await outsider.http.post(
                f"/api/v1/rooms/{room_id}/members", json={"username": username}, headers=csrf
            ),
            await outsider.http.get(f"/api/v1/rooms/{room_id}/members"),
        ]
        assert [answer.status_code for answer in refusals] == [404] * 5, [
            answer.text for answer in refusals
        ]
        page = await outsider.http.get(f"/rooms/{room_id}", headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "只给李娜看" not in page.text
    assert (await listed(await login("lina")))[room_id]["kind"] == "conversation"


async def test_members_cannot_add_people_to_a_conversation(login) -> None:
    wang = await login("wangfang")
    room_id = (await start(wang, ["lina"])).json()["id"]
    added = await wang.http.post(
        f"/api/v1/rooms/{room_id}/members",
        json={"username": "zhouqiang"},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert added.status_code == 400
    assert added.json()["error"]
    zhou = await login("zhouqiang")
    assert room_id not in await listed(zhou)


async def test_the_members_tabs_get_a_new_conversation_live_and_others_hear_nothing(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    zhou = await login("zhouqiang")
    chen = await login("chengang")
    streams = {
        name: await open_stream(server.ws_url, cookie=client.session_cookie)
        for name, client in (("wang", wang), ("li", li), ("zhou", zhou), ("chen", chen))
    }
    try:
        for stream in streams.values():
            await stream.next("ready")
        room = (await start(wang, ["lina"])).json()
        joined = {name: await streams[name].next("room.joined") for name in ("wang", "li")}
        assert joined["wang"]["room"]["id"] == joined["li"]["room"]["id"] == room["id"]
        assert joined["wang"]["room"]["kind"] == "conversation"
        assert joined["wang"]["room"]["name"] == "李娜"
        assert joined["li"]["room"]["name"] == "王芳"
        assert len(joined["li"]["room"]["members"]) == 2
        private = await post(wang, room["id"], "悄悄话", "dm-live-0001")
        public = await post(wang, cast.company_room_id, "大家好", "dm-live-0002")
        heard = {name: await frames_until_pong(stream) for name, stream in streams.items()}
    finally:
        for stream in streams.values():
            await stream.close()
    assert message_ids(heard["li"]) == [private, public]
    assert message_ids(heard["wang"]) == [private, public]
    for outsider in ("zhou", "chen"):
        assert message_ids(heard[outsider]) == [public], outsider
        assert not [frame for frame in heard[outsider] if frame["type"].startswith("room.")]
        assert not [
            f for f in streams[outsider].frames if f.get("room", {}).get("id") == room["id"]
        ]


async def test_a_stream_resumed_from_before_a_conversation_replays_it_to_members_only(
    login, server
) -> None:
    wang = await login("wangfang")
    zhou = await login("zhouqiang")
    room_id = (await start(wang, ["lina"])).json()["id"]
    secret = await post(wang, room_id, "补发也不给外人", "dm-replay-01")
    replays = {}
    for name, client in (("wang", wang), ("zhou", zhou)):
        stream = await open_stream(
            server.ws_url, cookie=client.session_cookie, last_message_id=secret - 1
        )
        try:
            await stream.next("ready")
            replays[name] = message_ids(stream.frames)
        finally:
            await stream.close()
    assert replays == {"wang": [secret], "zhou": []}
