"""A room list keeps what it shows of each room (rooms/cards.py) until the database says the
room changed: a rename, a conversation's members and their names show in the very next
list, whoever made the change (this server, another node, SQL typed by an operator), while
posting and reading move nothing and a list already made reads no room again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from counterline.accounts.actions import get_user_named
from counterline.accounts.models import User
from counterline.admin.users import rename as rename_user
from counterline.rooms import queries as room_queries
from counterline.rooms.cards import RoomCards
from counterline.rooms.conversations import room_list_json, room_list_of
from counterline.rooms.models import Membership, Room
from counterline.services import Services
from tests.cast import Cast
from tests.support.clients import Client, post
from tests.test_conversations import listed, start
from tests.test_room_basics import create_room, rename


def member_names(room: dict[str, Any]) -> list[str]:
    return [member["display_name"] for member in room["members"]]


async def revision_of(services: Services, room_id: int) -> int:
    async with services.reading() as unit:
        return await unit.session.scalar(select(Room.revision).where(Room.id == room_id)) or 0


async def test_a_listed_room_shows_its_new_name_and_its_members_new_names(
    login, services: Services
) -> None:
    wang: Client = await login("wangfang")
    zhang: Client = await login("zhangwei")
    topic = (await create_room(zhang, "医保答疑")).json()
    direct = (await start(wang, ["lina"])).json()
    assert (await listed(zhang))[topic["id"]]["name"] == "医保答疑"
    assert (await listed(wang))[direct["id"]]["name"] == "李娜"

    assert (await rename(zhang, topic["id"], "医保报销答疑")).status_code == 200
    async with services.transaction() as unit:  # an administrator, on another node
        await rename_user(unit, await get_user_named(unit, "lina"), "李娜（花桥）", actor_id=1)

    assert (await listed(zhang))[topic["id"]]["name"] == "医保报销答疑"
    shown = (await listed(wang))[direct["id"]]
    assert shown["name"] == "李娜（花桥）"
    assert "李娜（花桥）" in member_names(shown)


async def test_changes_written_straight_into_the_database_show_in_the_next_list(
    login, services: Services
) -> None:
    wang: Client = await login("wangfang")
    group = (await start(wang, ["lina", "zhangwei"], name="宽带小组")).json()
    direct = (await start(wang, ["zhouqiang"])).json()
    before = await listed(wang)
    assert before[group["id"]]["name"] == "宽带小组"
    assert sorted(member_names(before[group["id"]])) == sorted(["王芳", "李娜", "张伟"])

    async with services.transaction() as unit:
        run = unit.session.execute
        zhang = await get_user_named(unit, "zhangwei")
        zhou = await get_user_named(unit, "zhouqiang")
        await run(update(Room).where(Room.id == group["id"]).values(name="宽带答疑小组"))
        await run(update(User).where(User.id == zhou.id).values(display_name="周强强"))
        await run(
            delete(Membership).where(
                Membership.room_id == group["id"], Membership.user_id == zhang.id
            )
        )
        await run(insert(Membership).values(room_id=group["id"], user_id=zhou.id))

    after = await listed(wang)
    assert after[group["id"]]["name"] == "宽带答疑小组"
    assert sorted(member_names(after[group["id"]])) == sorted(["王芳", "李娜", "周强强"])
    assert after[direct["id"]]["name"] == "周强强"


async def test_posting_and_reading_leave_a_rooms_revision_where_it_was(
    login, services: Services, cast: Cast
) -> None:
    wang: Client = await login("wangfang")
    li: Client = await login("lina")
    direct = (await start(wang, ["lina"])).json()
    before = await revision_of(services, direct["id"])
    posted = await post(wang, direct["id"], "B1E-0D7 的资费?", "revision-1")
    read = await li.http.post(
        f"/api/v1/rooms/{direct['id']}/read",
        json={"up_to": posted},
        headers={"X-CSRF-Token": li.csrf_token},
    )
    assert read.status_code in (200, 204), read.text
    assert await revision_of(services, direct["id"]) == before
    async with services.transaction() as unit:
        await unit.session.execute(update(Room).where(Room.id == direct["id"]).values(name="改名"))
    assert await revision_of(services, direct["id"]) == before + 1


async def test_a_list_made_again_reads_only_the_read_positions_and_rooms_to_join(
    login, services: Services
) -> None:
    if services.quick_reads is None:
        pytest.skip("counts the statements of SQLite's quick reads")
    wang: Client = await login("wangfang")
    await start(wang, ["lina"])
    await start(wang, ["lina", "zhangwei"])
    wang_id = await _user_id(services, "wangfang")
    run: list[str] = []
    services.quick_reads.statements.listeners.append(run.append)
    async with services.quick_read() as unit:
        first = await room_list_json(unit, services.room_cards, wang_id)
    first_statements, run[:] = len(run), []
    async with services.quick_read() as unit:
        again = await room_list_json(unit, services.room_cards, wang_id)
    assert again == first
    assert first_statements == 4  # readings, cards, conversation members, rooms to join
    assert len(run) == 2, run


async def test_a_full_card_keeper_still_answers_every_room(login, services: Services) -> None:
    wang: Client = await login("wangfang")
    for others in (["lina"], ["zhangwei"], ["lina", "zhangwei"]):
        await start(wang, others)
    wang_id = await _user_id(services, "wangfang")
    async with services.reading() as unit:
        roomy = await room_list_of(unit, RoomCards(), wang_id)
        cramped_keeper = RoomCards(max_cards=2)
        cramped = [await room_list_of(unit, cramped_keeper, wang_id) for _ in range(3)]
        listed_rows = await room_queries.list_rooms_of(unit.session, wang_id)
    assert len(roomy) == len(listed_rows) >= 5
    assert [room["id"] for room in roomy] == [row.id for row in listed_rows]
    assert all(each == roomy for each in cramped)


async def _user_id(services: Services, username: str) -> int:
    async with services.reading() as unit:
        return (await get_user_named(unit, username)).id
