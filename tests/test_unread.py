"""Read positions and unread counts (messages/reading.py, messages/numbering.py), against
the live server: counts kept by the server, marking read, every tab told, concurrent posting,
and the migration that numbers existing messages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select

from counterline.accounts.models import User
from counterline.config import Settings
from counterline.db import UtcDateTime
from counterline.messages.models import Message
from counterline.messages.writer import PostWriter
from counterline.migrate import upgrade
from counterline.rooms.models import Membership, Room
from counterline.services import Services
from tests.cast import CHENGBEI, Cast
from tests.support.clients import Client, open_stream, post
from tests.support.waiting import frames_until_pong


async def mark_read(client: Client, room_id: int, up_to: int) -> Any:
    return await client.http.post(
        f"/api/v1/rooms/{room_id}/read",
        json={"up_to": up_to},
        headers={"X-CSRF-Token": client.csrf_token},
    )


async def mark_all_read(client: Client) -> Any:
    return await client.http.post("/api/v1/rooms/read", headers={"X-CSRF-Token": client.csrf_token})


async def positions(client: Client) -> dict[int, tuple[int, int]]:
    """(unread, last_read_id) by room id, as the room list says."""
    listing = await client.http.get("/api/v1/rooms")
    assert listing.status_code == 200, listing.text
    return {room["id"]: (room["unread"], room["last_read_id"]) for room in listing.json()["rooms"]}


async def unread(client: Client, room_id: int) -> int:
    return (await positions(client))[room_id][0]


async def test_others_posts_count_own_posts_do_not_and_reading_never_goes_back(
    login, cast: Cast
) -> None:
    wang, zhao, li = await login("wangfang"), await login("zhaomin"), await login("lina")
    company = cast.company_room_id
    ids = [await post(wang, company, f"通知{n}", f"unread-{n:04}") for n in range(3)]
    assert await unread(zhao, company) == 3
    assert await unread(wang, company) == 0  # her own
    assert (await positions(wang))[company] == (0, ids[-1])
    # Posting is reading: Li Na's post moves her past Wang Fang's three.
    own = await post(li, company, "收到", "unread-li-1")
    assert (await positions(li))[company] == (0, own)
    assert await unread(zhao, company) == 4
    assert await unread(wang, company) == 1

    answer = await mark_read(zhao, company, ids[1])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"room_id": company, "last_read_id": ids[1], "unread": 2}
    backwards = await mark_read(zhao, company, ids[0])
    assert backwards.json() == {"room_id": company, "last_read_id": ids[1], "unread": 2}
    assert (await positions(zhao))[company] == (2, ids[1])
    summary = (await zhao.http.get("/api/v1/unread")).json()
    assert summary == {
        "rooms": [{"room_id": company, "last_read_id": ids[1], "unread": 2}],
        "total": 2,
    }
    assert (await mark_read(zhao, company, own)).json()["unread"] == 0
    assert (await zhao.http.get("/api/v1/unread")).json() == {"rooms": [], "total": 0}


async def test_marking_read_is_refused_outside_ones_rooms_and_for_another_rooms_message(
    login, cast: Cast
) -> None:
    wang, li = await login("wangfang"), await login("lina")
    chengbei = cast.branch_room_ids[CHENGBEI]
    inside = await post(wang, chengbei, "城北内部", "refuse-0001")
    public = await post(wang, cast.company_room_id, "全公司", "refuse-0002")
    # Not a member: 404, whether the message exists or not.
    assert (await mark_read(li, chengbei, inside)).status_code == 404
    # A message of another room, or none at all.
    assert (await mark_read(li, cast.company_room_id, inside)).status_code == 404
    assert (await mark_read(li, cast.company_room_id, 10**12)).status_code == 404
    assert (await mark_read(li, cast.company_room_id, 0)).status_code == 422
    assert (await positions(li))[cast.company_room_id] == (1, 0)
    assert (await mark_read(li, cast.company_room_id, public)).json()["unread"] == 0


async def test_conversations_carry_counts_and_only_their_members_mark_them(login) -> None:
    wang, li, zhou = await login("wangfang"), await login("lina"), await login("zhouqiang")
    started = await wang.http.post(
        "/api/v1/conversations",
        json={"members": ["lina"]},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    room_id = started.json()["id"]
    assert started.json()["unread"] == 0
    first = await post(li, room_id, "在吗", "dm-00001")
    second = await post(li, room_id, "有个问题", "dm-00002")
    assert (await positions(wang))[room_id] == (2, 0)
    assert (await positions(li))[room_id] == (0, second)
    assert (await mark_read(zhou, room_id, first)).status_code == 404
    assert (await mark_read(wang, room_id, first)).json()["unread"] == 1
    page = await wang.http.get(f"/rooms/{room_id}")
    assert page.status_code == 200
    assert '"unread":1' in page.text.replace(" ", "")
    assert f'"last_read_id":{first}' in page.text.replace(" ", "")


async def test_a_new_member_starts_with_what_was_posted_before_read(login) -> None:
    zhang, li = await login("zhangwei"), await login("lina")
    created = await zhang.http.post(
        "/api/v1/rooms",
        json={"name": "新人须知", "visibility": "public"},
        headers={"X-CSRF-Token": zhang.csrf_token},
    )
    room_id = created.json()["id"]
    for n in range(3):
        await post(zhang, room_id, f"须知{n}", f"joiner-{n:04}")
    joined = await li.http.put(
        f"/api/v1/rooms/{room_id}/membership", headers={"X-CSRF-Token": li.csrf_token}
    )
    assert joined.status_code == 200
    assert (await positions(li))[room_id] == (0, 0)
    await post(zhang, room_id, "欢迎", "joiner-0003")
    assert (await positions(li))[room_id][0] == 1


async def test_reading_clears_the_count_in_every_tab_of_hers_and_nobody_elses(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    zhao_here, zhao_there = await login("zhaomin"), await login("zhaomin")
    company = cast.company_room_id
    tabs = [
        await open_stream(server.ws_url, cookie=zhao_here.session_cookie),
        await open_stream(server.ws_url, cookie=zhao_there.session_cookie),
        await open_stream(server.ws_url, cookie=wang.session_cookie),
    ]
    try:
        for tab in tabs:
            await tab.next("ready")
        last = [await post(wang, company, f"第{n}条", f"tabs-{n:04}") for n in range(2)][-1]
        assert (await mark_read(zhao_here, company, last)).status_code == 200
        told = [await tab.next("room.read") for tab in tabs[:2]]
        wangs = await frames_until_pong(tabs[2])
    finally:
        for tab in tabs:
            await tab.close()
    for frame in told:
        assert {k: frame[k] for k in ("room_id", "last_read_id", "unread")} == {
            "room_id": company,
            "last_read_id": last,
            "unread": 0,
        }
    assert "room.read" not in {frame["type"] for frame in wangs}


async def test_marking_all_read_clears_every_room_and_tells_her_tabs(
    login, server, cast: Cast
) -> None:
    wang, zhao = await login("wangfang"), await login("zhaomin")
    chengbei = cast.branch_room_ids[CHENGBEI]
    in_company = await post(wang, cast.company_room_id, "全公司", "all-00001")
    in_branch = await post(wang, chengbei, "城北", "all-00002")
    assert (await zhao.http.get("/api/v1/unread")).json()["total"] == 2
    tab = await open_stream(server.ws_url, cookie=zhao.session_cookie)
    try:
        await tab.next("ready")
        answer = await mark_all_read(zhao)
        told = [await tab.next("room.read"), await tab.next("room.read")]
    finally:
        await tab.close()
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"rooms": [], "total": 0}
    assert {(f["room_id"], f["last_read_id"], f["unread"]) for f in told} == {
        (cast.company_room_id, in_company, 0),
        (chengbei, in_branch, 0),
    }
    assert (await positions(zhao))[chengbei] == (0, in_branch)


async def test_counts_stay_exact_while_several_writers_post_and_a_reader_marks_read(
    login, cast: Cast, services: Services
) -> None:
    company = cast.company_room_id
    writers = [await login(name) for name in ("wangfang", "lina", "zhouqiang", "zhangwei")]
    reader = await login("zhaomin")
    per_writer = 25
    done = asyncio.Event()

    async def write(client: Client, number: int) -> None:
        for n in range(per_writer):
            client_id = f"race-{number}-{n:04}"
            # Every fifth post is sent twice at once (a retry): a skipped row must give
            # its number back.
            copies = 2 if n % 5 == 0 else 1
            answers = await asyncio.gather(
                *(
                    client.post_message(company, f"并发{number}-{n}", client_id)
                    for _ in range(copies)
                )
            )
            assert all(answer.status_code in (200, 201) for answer in answers)

    async def read() -> int:
        marks = 0
        while not done.is_set():
            newest = (await reader.http.get(f"/api/v1/rooms/{company}/messages?limit=1")).json()
            if newest["messages"]:
                answer = await mark_read(reader, company, newest["messages"][-1]["id"])
                assert answer.status_code == 200, answer.text
                marks += 1
            await asyncio.sleep(0)
        return marks

    reading = asyncio.create_task(read())
    await asyncio.gather(*(write(client, i) for i, client in enumerate(writers)))
    done.set()
    assert await reading > 0

    async with services.reading() as unit:
        session = unit.session
        seqs = (
            await session.scalars(
                select(Message.seq).where(Message.room_id == company).order_by(Message.id)
            )
        ).all()
        last_seq = await session.scalar(select(Room.last_seq).where(Room.id == company))
        last_read_id = await session.scalar(
            select(Membership.last_read_id).where(
                Membership.room_id == company, Membership.user_id == cast["zhaomin"].id
            )
        )
        after = await session.scalar(
            select(func.count()).where(Message.room_id == company, Message.id > last_read_id)
        )
    assert len(seqs) == len(writers) * per_writer
    assert list(seqs) == list(range(1, len(seqs) + 1))  # gapless, in id order
    assert last_seq == len(seqs)
    assert await unread(reader, company) == after
    for writer in writers:  # each read up to her own last post, never back
        own_unread = await unread(writer, company)
        assert 0 <= own_unread < len(seqs)


async def test_two_writers_of_their_own_number_one_room_without_gaps_or_twins(
    make_settings: Any, cast: Cast
) -> None:
    """Two processes' worth of post writers (each its own engine, posting order and group
    commit) on one database, both posting to one room at once: on PostgreSQL the numbers
    come from locked room rows, on SQLite from the one writer."""
    nodes = [Services.from_settings(make_settings()) for _ in range(2)]
    writers = [PostWriter(node.posting_order.group) for node in nodes]
    for writer in writers:
        writer.start()
    try:
        async with nodes[0].reading() as unit:
            authors = (
                await unit.session.scalars(
                    select(User).where(User.username.in_(["wangfang", "lina", "zhouqiang"]))
                )
            ).all()
        posts = [
            writers[n % 2].post(
                authors[n % 3], cast.company_room_id, f"两个进程{n}", f"nodes-{n:04}", "10.0.0.8"
            )
            for n in range(120)
        ]
        answers = await asyncio.gather(*posts)
        async with nodes[0].reading() as unit:
            rows = (
                await unit.session.execute(
                    select(Message.id, Message.seq)
                    .where(Message.room_id == cast.company_room_id)
                    .order_by(Message.id)
                )
            ).all()
            last_seq = await unit.session.scalar(
                select(Room.last_seq).where(Room.id == cast.company_room_id)
            )
    finally:
        for writer in writers:
            await writer.stop()
        for node in nodes:
            await node.database.dispose()
    assert all(created for _, created in answers)
    assert [seq for _, seq in rows] == list(range(1, 121))
    assert last_seq == 120


async def test_the_migration_numbers_existing_messages_and_starts_everyone_read(
    empty_database_url: str,
) -> None:
    services = Services.from_settings(Settings(database_url=empty_database_url))
    try:
        await upgrade(services.database, "0005")
        now = datetime(2026, 11, 1, tzinfo=UTC)
        branches = sa.table(
            "branches", sa.column("id"), sa.column("name"), sa.column("created_at", UtcDateTime)
        )
        users = sa.table(
            "users",
            *(sa.column(name) for name in ("id", "username", "display_name", "branch_id", "role")),
            *(sa.column(name) for name in ("password_hash", "must_change_password", "active")),
            sa.column("created_at", UtcDateTime),
        )
        rooms = sa.table(
            "rooms",
            *(sa.column(name) for name in ("id", "kind", "name", "visibility")),
            sa.column("created_at", UtcDateTime),
        )
        members = sa.table(
            "room_members",
            *(sa.column(n) for n in ("id", "room_id", "user_id")),
            sa.column("joined_at", UtcDateTime),
        )
        messages = sa.table(
            "messages",
            *(sa.column(n) for n in ("id", "room_id", "author_id", "author_branch_id")),
            *(sa.column(n) for n in ("client_id", "client_ip", "body", "body_html")),
            sa.column("created_at", UtcDateTime),
        )
        # Rooms 1 and 2 interleaved, room 3 without messages.
        layout = [1, 2, 1, 1, 2, 1]
        async with services.transaction() as unit:
            run = unit.session.execute
            await run(sa.insert(branches), [{"id": 1, "name": "城北", "created_at": now}])
            await run(
                sa.insert(users),
                [
                    {
                        "id": n,
                        "username": f"u{n}",
                        "display_name": f"用户{n}",
                        "branch_id": 1,
                        "role": "clerk",
                        "password_hash": "x",
                        "must_change_password": False,
                        "active": True,
                        "created_at": now,
                    }
                    for n in (1, 2)
                ],
            )
            await run(
                sa.insert(rooms),
                [
                    {
                        "id": r,
                        "kind": "topic",
                        "name": f"房间{r}",
                        "visibility": "public",
                        "created_at": now,
                    }
                    for r in (1, 2, 3)
                ],
            )
            await run(
                sa.insert(members),
                [
                    {"id": r * 10 + u, "room_id": r, "user_id": u, "joined_at": now}
                    for r in (1, 2, 3)
                    for u in (1, 2)
                ],
            )
            await run(
                sa.insert(messages),
                [
                    {
                        "id": 100 + n,
                        "room_id": room,
                        "author_id": 1,
                        "author_branch_id": 1,
                        "client_id": f"m{n}",
                        "client_ip": "10.0.0.1",
                        "body": "x",
                        "body_html": "<p>x</p>",
                        "created_at": now,
                    }
                    for n, room in enumerate(layout)
                ],
            )
        await upgrade(services.database, "0006")
        async with services.reading() as unit:
            run = unit.session.execute
            seqs = (await run(sa.text("SELECT id, seq FROM messages ORDER BY id"))).all()
            last = dict((await run(sa.text("SELECT id, last_seq FROM rooms"))).all())
            read = (
                await run(
                    sa.text(
                        "SELECT room_id, user_id, read_seq, last_read_id FROM room_members"
                        " ORDER BY room_id, user_id"
                    )
                )
            ).all()
    finally:
        await services.database.dispose()
    assert [tuple(row) for row in seqs] == [
        (100, 1),
        (101, 1),
        (102, 2),
        (103, 3),
        (104, 2),
        (105, 4),
    ]
    assert last == {1: 4, 2: 2, 3: 0}
    assert [tuple(row) for row in read] == [
        (1, 1, 4, 105),
        (1, 2, 4, 105),
        (2, 1, 2, 104),
        (2, 2, 2, 104),
        (3, 1, 0, 0),
        (3, 2, 0, 0),
    ]
