"""Rooms as a new user expects them: who is in a room, names two rooms can't share, an offer
to join a public room instead of a 404, the same friendly 404 page for every room address
that isn't one, and new public rooms reaching everyone's list of rooms to join."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from typing import Any

import pytest

from counterline.accounts.actions import get_branch_named, get_user_named, set_active
from counterline.accounts.models import Role
from counterline.errors import UserError
from counterline.people.actions import add_branch, add_user
from counterline.rooms import queries as room_queries
from counterline.rooms.actions import set_room_archived
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client, open_stream
from tests.support.pages import csrf_token_in
from tests.support.waiting import frames_until_pong, wait_for

HTML = {"Accept": "text/html,application/xhtml+xml"}


async def create_room(client: Client, name: str, visibility: str = "public") -> Any:
    return await client.http.post(
        "/api/v1/rooms",
        json={"name": name, "visibility": visibility},
        headers={"X-CSRF-Token": client.csrf_token},
    )


async def members(client: Client, room_id: int, **query: Any) -> Any:
    return await client.http.get(f"/api/v1/rooms/{room_id}/members", params=query)


# Who is in a room


async def test_members_see_who_is_in_the_room_a_page_at_a_time(
    login, server, cast: Cast, services: Services
) -> None:
    async with services.transaction() as unit:
        branch = await get_branch_named(unit, HUAQIAO)
        for number in range(5):
            await add_user(
                unit,
                username=f"huaqiao{number}",
                display_name=f"花桥柜员{number}",
                branch=branch,
                role=Role.clerk,
                password="counter-pass-1",
            )
    li = await login("lina")
    everyone = (await members(li, cast.company_room_id)).json()
    assert everyone["total"] == 11
    assert everyone["has_more"] is False
    wang = next(member for member in everyone["members"] if member["username"] == "wangfang")
    assert wang == {
        "id": cast["wangfang"].id,
        "username": "wangfang",
        "display_name": "王芳",
        "branch": CHENGBEI,
        "online": False,
    }
    branch_room = (await members(li, cast.branch_room_ids[HUAQIAO])).json()
    assert {member["username"] for member in branch_room["members"]} == {
        "lina",
        "zhouqiang",
        *(f"huaqiao{number}" for number in range(5)),
    }
    first = (await members(li, cast.company_room_id, limit=4)).json()
    rest = (await members(li, cast.company_room_id, limit=4, offset=4)).json()
    last = (await members(li, cast.company_room_id, limit=4, offset=8)).json()
    assert (first["has_more"], rest["has_more"], last["has_more"]) == (True, True, False)
    pages = [m["id"] for page in (first, rest, last) for m in page["members"]]
    assert pages == [member["id"] for member in everyone["members"]]
    found = (await members(li, cast.company_room_id, q="花桥柜员")).json()
    assert found["total"] == 5
    assert (await members(li, cast.company_room_id, q="WANGF")).json()["total"] == 1
    assert (await members(li, cast.company_room_id, q="%")).json()["total"] == 0
    assert (await members(li, cast.branch_room_ids[CHENGBEI])).status_code == 404
    assert (await members(li, cast.company_room_id, limit=201)).status_code == 422

    wang_client = await login("wangfang")
    stream = await open_stream(server.ws_url, cookie=wang_client.session_cookie)
    try:
        await stream.next("ready")

        async def wang_online() -> bool:
            page = (await members(li, cast.company_room_id, q="wangfang")).json()
            return page["members"][0]["online"]

        await wait_for(wang_online, 5, "王芳 shown online in the member list")
    finally:
        await stream.close()


async def test_the_room_page_shows_its_member_count(login, cast: Cast) -> None:
    wang = await login("wangfang")
    page = await wang.http.get(f"/rooms/{cast.branch_room_ids[CHENGBEI]}", headers=HTML)
    assert page.status_code == 200
    assert "<span data-member-count>2</span>" in page.text


async def test_a_deactivated_member_leaves_the_member_count(
    login, cast: Cast, services: Services
) -> None:
    wang = await login("wangfang")
    company = f"/rooms/{cast.company_room_id}"
    before = member_count_in((await wang.http.get(company, headers=HTML)).text)
    async with services.transaction() as unit:
        await set_active(unit, await get_user_named(unit, "lina"), False, actor_id=None)
    assert member_count_in((await wang.http.get(company, headers=HTML)).text) == before - 1
    async with services.transaction() as unit:
        await set_active(unit, await get_user_named(unit, "lina"), True, actor_id=None)
    assert member_count_in((await wang.http.get(company, headers=HTML)).text) == before


async def test_the_member_count_reads_the_deactivated_accounts_not_every_member(
    services: Services, cast: Cast
) -> None:
    path = services.database.sqlite_path
    if path is None or services.quick_reads is None:
        pytest.skip("SQLite's query plan")
    run: list[str] = []
    services.quick_reads.statements.listeners.append(run.append)
    async with services.quick_read() as unit:
        await room_queries.count_members(unit.session, cast.company_room_id)
    (sql,) = run
    with closing(sqlite3.connect(path)) as database:
        plan = database.execute(f"EXPLAIN QUERY PLAN {sql}", [cast.company_room_id] * 2)
        steps = [row[-1] for row in plan]
    assert any(step == "SCAN users USING INDEX ix_users_inactive" for step in steps), steps
    assert not any(step.startswith("SEARCH users") for step in steps), steps  # not per member


def member_count_in(page: str) -> int:
    return int(page.split("<span data-member-count>", 1)[1].split("<", 1)[0])


# Names two rooms can't share


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ABC", "ＡＢＣ"),
        ("ABC", "abc"),
        ("ＡＢＣ", " abc "),
        ("社保 答疑", "社保\u3000\u3000答疑"),
        ("Straße", "STRASSE"),
    ],
)
async def test_two_rooms_cannot_share_a_name_up_to_case_width_and_spacing(
    login, first: str, second: str
) -> None:
    zhang = await login("zhangwei")
    chen = await login("chengang")
    chen.http.headers["Accept-Language"] = "en"
    created = await create_room(zhang, first)
    assert created.status_code == 201, created.text
    taken = await create_room(chen, second, "invite_only")
    assert taken.status_code == 409, taken.text
    assert taken.json()["error"] == (
        f"There is already a room named “{first.strip()}”. Pick another name."
    )
    zhang.http.headers["Accept-Language"] = "zh-CN"
    again = await create_room(zhang, second)
    assert again.status_code == 409
    assert f"“{first.strip()}”" in again.json()["error"]
    listing = (await zhang.http.get("/api/v1/rooms")).json()
    assert [room["name"] for room in listing["rooms"]].count(first.strip()) == 1


async def test_rooms_created_at_once_with_one_name_give_one_room(login) -> None:
    zhang = await login("zhangwei")
    chen = await login("chengang")
    names = ("同名", " 同名", "ＴＯＮＧ", "tong")
    answers = await asyncio.gather(
        *(create_room(client, name) for name in names for client in (zhang, chen))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 2 + [409] * 6, [answer.text for answer in answers]


async def test_topic_rooms_cannot_take_a_branch_or_company_rooms_name(login) -> None:
    zhang = await login("zhangwei")
    for name in (CHENGBEI, "全公司", f" {HUAQIAO}"):
        answer = await create_room(zhang, name)
        assert answer.status_code == 409, name
        assert name.strip() in answer.json()["error"]
    assert (await create_room(zhang, "城北营业厅答疑")).status_code == 201


async def test_a_new_branch_cannot_take_a_rooms_name(login, services: Services) -> None:
    zhang = await login("zhangwei")
    assert (await create_room(zhang, "新区营业厅")).status_code == 201
    with pytest.raises(UserError) as refused:
        async with services.transaction() as unit:
            await add_branch(unit, "新区营业厅")
    assert refused.value.status_code == 409
    async with services.reading() as unit:
        with pytest.raises(UserError):
            await get_branch_named(unit, "新区营业厅")  # rolled back with its room


async def test_rooms_with_different_names_are_all_created(login) -> None:
    zhang = await login("zhangwei")
    for name in ("ABC", "ABCD", "A BC", "AB-C"):
        assert (await create_room(zhang, name)).status_code == 201, name


async def rename(client: Client, room_id: int, name: str) -> Any:
    return await client.http.patch(
        f"/api/v1/rooms/{room_id}", json={"name": name}, headers={"X-CSRF-Token": client.csrf_token}
    )


async def test_renaming_to_a_taken_name_is_refused_and_a_rename_reaches_the_members(
    login, server, cast: Cast
) -> None:
    zhang = await login("zhangwei")
    room = (await create_room(zhang, "医保答疑")).json()
    other = (await create_room(zhang, "社保答疑")).json()
    li = await login("lina")
    assert (
        await li.http.put(
            f"/api/v1/rooms/{room['id']}/membership", headers={"X-CSRF-Token": li.csrf_token}
        )
    ).status_code == 200
    stream = await open_stream(server.ws_url, cookie=li.session_cookie)
    try:
        await stream.next("ready")
        taken = await rename(zhang, room["id"], " 社保答疑 ")
        assert taken.status_code == 409
        assert "“社保答疑”" in taken.json()["error"]
        assert (await rename(zhang, room["id"], "全公司")).status_code == 409
        same = await rename(zhang, room["id"], "医保答疑")  # its own name: no change
        assert same.status_code == 200
        renamed = await rename(zhang, room["id"], "医保报销答疑")
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == "医保报销答疑"
        frames = await frames_until_pong(stream)
    finally:
        await stream.close()
    assert [f["room"]["name"] for f in frames if f["type"] == "room.renamed"] == ["医保报销答疑"]
    assert (await create_room(zhang, "医保答疑")).status_code == 201  # the old name is free
    assert (await rename(li, room["id"], "李娜的房间")).status_code == 403  # not the creator
    chen = await login("chengang")
    assert (await rename(chen, other["id"], "社保问答")).status_code == 200  # an admin
    assert (await rename(chen, cast.company_room_id, "全公司群")).status_code == 400
    assert (await rename(li, cast.branch_room_ids[CHENGBEI], "别人的房间")).status_code == 404
    wang = await login("wangfang")
    conversation = (
        await wang.http.post(
            "/api/v1/conversations",
            json={"members": ["lina", "zhouqiang"]},
            headers={"X-CSRF-Token": wang.csrf_token},
        )
    ).json()
    assert (await rename(chen, conversation["id"], "偷看")).status_code == 404
    assert (await rename(wang, conversation["id"], "我们仨")).status_code == 400


# A link to a room the user is not in


async def test_a_public_room_link_offers_to_join_and_joining_lands_in_the_room(login) -> None:
    zhang = await login("zhangwei")
    room = (await create_room(zhang, "公积金提取答疑")).json()
    li = await login("lina")
    offer = await li.http.get(f"/rooms/{room['id']}", headers=HTML)
    assert offer.status_code == 200
    assert offer.headers["content-type"].startswith("text/html")
    assert "公积金提取答疑" in offer.text
    assert "加入此房间" in offer.text
    assert "成员：1" in offer.text
    assert 'id="boot"' not in offer.text  # no messages, no page data
    refused = await li.http.post(f"/rooms/{room['id']}/join", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    joined = await li.http.post(
        f"/rooms/{room['id']}/join", data={"csrf_token": csrf_token_in(offer)}
    )
    assert joined.status_code == 303
    assert joined.headers["location"] == f"/rooms/{room['id']}"
    inside = await li.http.get(f"/rooms/{room['id']}", headers=HTML)
    assert inside.status_code == 200
    assert 'id="boot"' in inside.text
    listing = (await li.http.get("/api/v1/rooms")).json()
    assert room["id"] in [r["id"] for r in listing["rooms"]]


async def test_the_join_form_refuses_rooms_that_are_not_public_topic_rooms(
    login, cast: Cast
) -> None:
    zhang = await login("zhangwei")
    hidden = (await create_room(zhang, "讲师内部群", "invite_only")).json()
    li = await login("lina")
    page = await li.http.get(f"/rooms/{cast.company_room_id}", headers=HTML)
    token = csrf_token_in(page)
    for room_id in (hidden["id"], cast.branch_room_ids[CHENGBEI], 999_999):
        answer = await li.http.post(f"/rooms/{room_id}/join", data={"csrf_token": token})
        assert answer.status_code == 404, room_id
        assert answer.headers["content-type"].startswith("text/html")


async def not_found_page(client: Client, address: str) -> str:
    page = await client.http.get(address, headers=HTML)
    assert page.status_code == 404, address
    assert page.headers["content-type"].startswith("text/html"), address
    assert "<h1>抱歉</h1>" in page.text or "Sorry" in page.text, address
    return page.text


async def test_rooms_a_user_may_not_see_and_malformed_addresses_get_the_same_404_page(
    login, cast: Cast
) -> None:
    zhang = await login("zhangwei")
    hidden = (await create_room(zhang, "讲师备课组", "invite_only")).json()
    wang = await login("wangfang")
    conversation = (
        await wang.http.post(
            "/api/v1/conversations",
            json={"members": ["zhaomin"]},
            headers={"X-CSRF-Token": wang.csrf_token},
        )
    ).json()
    li = await login("lina")
    missing = await not_found_page(li, "/rooms/99999")
    for address in (
        f"/rooms/{hidden['id']}",
        f"/rooms/{cast.branch_room_ids[CHENGBEI]}",
        f"/rooms/{conversation['id']}",
        "/rooms/abc",
        "/rooms/0",
        "/rooms/-1",
        "/rooms/1.5",
        "/rooms/99999999999999999999",
    ):
        text = await not_found_page(li, address)
        assert "讲师备课组" not in text and "加入此房间" not in text, address
        assert text.split("<main")[0] == missing.split("<main")[0], address
    for address in ("/api/v1/rooms/abc/messages", "/api/v1/rooms/abc/members"):
        api = await li.http.get(address, headers=HTML)
        assert api.status_code == 422
        assert api.json()["error"]
    hidden_api = await li.http.get(f"/api/v1/rooms/{hidden['id']}/members")
    assert hidden_api.status_code == 404
    assert hidden_api.json()["error"]


# New public rooms, live


async def test_a_new_public_room_reaches_every_tab_and_an_invite_only_one_none(
    login, server
) -> None:
    li = await login("lina")
    zhang = await login("zhangwei")
    watching = await open_stream(server.ws_url, cookie=li.session_cookie)
    creator = await open_stream(server.ws_url, cookie=zhang.session_cookie)
    try:
        await watching.next("ready")
        await creator.next("ready")
        hidden = (await create_room(zhang, "讲师私房话", "invite_only")).json()
        public = (await create_room(zhang, "新人入职指南")).json()
        seen = await frames_until_pong(watching)
        by_creator = await frames_until_pong(creator)
    finally:
        await watching.close()
        await creator.close()
    opened = [frame["room"] for frame in seen if frame["type"] == "room.opened"]
    assert opened == [{**public, "members": None}] or opened == [public]
    assert hidden["id"] not in [frame.get("room", {}).get("id") for frame in seen]
    assert [f["room"]["id"] for f in by_creator if f["type"] == "room.opened"] == [public["id"]]
    assert {f["room"]["id"] for f in by_creator if f["type"] == "room.joined"} == {
        hidden["id"],
        public["id"],
    }


async def test_a_member_still_reads_an_archived_room_on_its_page(login, services: Services) -> None:
    zhang = await login("zhangwei")
    room = (await create_room(zhang, "旧业务答疑")).json()
    await zhang.post_message(room["id"], "旧资费 B1E-0D7 到此为止", "archived-room-1")
    async with services.transaction() as unit:
        archived = await room_queries.find_room(unit.session, room["id"])
        assert archived is not None
        assert await set_room_archived(unit, None, archived, True)
    listed = (await zhang.http.get("/api/v1/rooms")).json()["rooms"]
    assert room["id"] not in [each["id"] for each in listed]
    page = await zhang.http.get(f"/rooms/{room['id']}", headers=HTML)
    assert page.status_code == 200
    assert 'id="room-archived"' in page.text
    assert "旧资费 B1E-0D7 到此为止" in page.text
    li = await login("lina")  # never a member: no page, no offer to join
    assert (await li.http.get(f"/rooms/{room['id']}", headers=HTML)).status_code == 404
