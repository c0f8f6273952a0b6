"""Group commit: posts waiting together are stored in one transaction, each answered on
its own, and a post that cannot be stored never takes its neighbours down with it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from counterline.accounts.models import User
from counterline.errors import NotFound, UserError
from counterline.messages.models import Message
from counterline.messages.reading import NOT_IN_ROOM, ReadMark, ReadMarker, mark_read
from counterline.messages.writer import PostWriter
from counterline.realtime.hub import Connection
from counterline.rooms.actions import NOT_A_MEMBER
from counterline.rooms.events import room_stream
from counterline.services import Services
from tests.cast import CHENGBEI, Cast


@pytest.fixture
async def groups_and_writer(services: Services) -> AsyncIterator[tuple[list[int], PostWriter]]:
    groups: list[int] = []
    writer = PostWriter(services.posting_order.group, on_group=groups.append)
    writer.start()
    yield groups, writer
    await writer.stop()


async def user(services: Services, username: str) -> User:
    async with services.reading() as unit:
        return (await unit.session.scalars(select(User).where(User.username == username))).one()


async def stored(services: Services) -> list[tuple[int, str, str]]:
    async with services.reading() as unit:
        rows = await unit.session.execute(
            select(Message.id, Message.client_id, Message.body).order_by(Message.id)
        )
        return [tuple(row) for row in rows]


async def test_posts_waiting_together_are_stored_in_one_commit_each_with_its_own_answer(
    services: Services, groups_and_writer: tuple[list[int], PostWriter], cast: Cast
) -> None:
    groups, writer = groups_and_writer
    wang = await user(services, "wangfang")
    answers = await asyncio.gather(
        *(
            writer.post(wang, cast.company_room_id, f"第{n}条", f"group-{n:03}", "10.0.0.7")
            for n in range(20)
        )
    )
    assert groups == [20]
    assert [message.client_id for message, _ in answers] == [f"group-{n:03}" for n in range(20)]
    assert all(created for _, created in answers)
    ids = [message.id for message, _ in answers]
    assert ids == sorted(ids) and len(set(ids)) == 20
    assert await stored(services) == [(m.id, m.client_id, m.body) for m, _ in answers]


async def test_authors_hear_their_posts_are_stored_before_the_room_hears_them(
    services: Services, groups_and_writer: tuple[list[int], PostWriter], cast: Cast
) -> None:
    _, writer = groups_and_writer
    listener = Connection(_unused, 0, staff=False, session_id=None)
    services.hub.attach(listener, [room_stream(cast.company_room_id)])
    wang = await user(services, "wangfang")

    async def post(number: int) -> tuple[int, int]:
        """The message's id, and how many frames the room had heard when she was answered."""
        message, _ = await writer.post(
            wang, cast.company_room_id, f"第{number}条", f"answer-first-{number}", "10.0.0.7"
        )
        return message.id, len(listener.outbox)

    answers = await asyncio.gather(post(1), post(2), post(3))
    assert [heard for _, heard in answers] == [0, 0, 0]  # one group, answered first
    alone = await post(4)
    assert alone[1] == 3  # the group before it was heard; this one not yet
    while len(listener.outbox) < 4:
        await asyncio.sleep(0)
    heard = [json.loads(frame.text)["message"]["id"] for frame in listener.outbox]
    assert heard == [message_id for message_id, _ in [*answers, alone]]


async def _unused(text: str) -> None:
    raise AssertionError("the listener has no drain running")


async def test_a_post_refused_in_a_group_leaves_the_others_stored(
    services: Services, groups_and_writer: tuple[list[int], PostWriter], cast: Cast
) -> None:
    groups, writer = groups_and_writer
    wang, li = await user(services, "wangfang"), await user(services, "lina")
    company, chengbei = cast.company_room_id, cast.branch_room_ids[CHENGBEI]
    outcomes = await asyncio.gather(
        writer.post(wang, company, "第一条", "mixed-01", "10.0.0.7"),
        writer.post(li, chengbei, "不是我的营业厅", "mixed-02", "10.0.0.8"),
        writer.post(wang, company, "   ", "mixed-03", "10.0.0.7"),
        writer.post(wang, company, "重用编号", "mixed-01", "10.0.0.7"),
        writer.post(li, company, "第二条", "mixed-05", "10.0.0.8"),
        return_exceptions=True,
    )
    assert groups == [5]
    first, not_member, empty, reused, last = outcomes
    assert isinstance(not_member, NotFound)
    assert isinstance(empty, UserError) and empty.status_code == 400
    assert isinstance(reused, UserError) and reused.status_code == 409
    assert [(m.client_id, m.body) for m in (first[0], last[0])] == [
        ("mixed-01", "第一条"),
        ("mixed-05", "第二条"),
    ]
    assert await stored(services) == [
        (first[0].id, "mixed-01", "第一条"),
        (last[0].id, "mixed-05", "第二条"),
    ]


async def test_a_post_the_database_rejects_fails_alone_and_its_neighbours_commit(
    services: Services, groups_and_writer: tuple[list[int], PostWriter], cast: Cast
) -> None:
    groups, writer = groups_and_writer
    wang = await user(services, "wangfang")
    company = cast.company_room_id
    broken_ip: str = None  # type: ignore[assignment]  # violates NOT NULL in the database
    outcomes = await asyncio.gather(
        writer.post(wang, company, "前", "alone-01", "10.0.0.7"),
        writer.post(wang, company, "坏的", "alone-02", broken_ip),
        writer.post(wang, company, "后", "alone-03", "10.0.0.7"),
        return_exceptions=True,
    )
    before, broken, after = outcomes
    assert isinstance(broken, Exception) and not isinstance(broken, UserError)
    assert groups == [1, 1], "the failed group is retried one post at a time"
    assert await stored(services) == [
        (before[0].id, "alone-01", "前"),
        (after[0].id, "alone-03", "后"),
    ]
    assert before[0].id < after[0].id


async def test_a_retry_in_the_same_group_gets_the_stored_message(
    services: Services, groups_and_writer: tuple[list[int], PostWriter], cast: Cast
) -> None:
    groups, writer = groups_and_writer
    wang = await user(services, "wangfang")
    (first, created), (again, created_again) = await asyncio.gather(
        writer.post(wang, cast.company_room_id, "只存一次", "retry-001", "10.0.0.7"),
        writer.post(wang, cast.company_room_id, "只存一次", "retry-001", "10.0.0.7"),
    )
    assert groups == [2]
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert await stored(services) == [(first.id, "retry-001", "只存一次")]


async def test_read_marks_waiting_together_are_each_answered_and_only_moves_are_announced(
    groups_and_writer, services: Services, cast: Cast
) -> None:
    _, writer = groups_and_writer
    wang, zhao, li = [await user(services, name) for name in ("wangfang", "zhaomin", "lina")]
    company, chengbei = cast.company_room_id, cast.branch_room_ids[CHENGBEI]
    posted = [
        await writer.post(wang, company, f"第{n}条", f"mark-{n}", "10.0.0.1") for n in range(3)
    ]
    ids = [message.id for message, _ in posted]
    in_chengbei, _ = await writer.post(wang, chengbei, "城北的", "mark-cb", "10.0.0.1")
    marks = [
        ReadMark(zhao.id, company, ids[1]),
        ReadMark(li.id, chengbei, in_chengbei.id),  # not her branch room
        ReadMark(li.id, company, in_chengbei.id),  # a message of another room
        ReadMark(li.id, company, ids[2]),
        ReadMark(zhao.id, company, ids[0]),  # older than her other mark: no move back
        ReadMark(wang.id, company, ids[2]),  # her own message: she is there already
        ReadMark(li.id, company, 10**12),  # no such message
    ]
    async with services.transaction() as unit:
        answers = await mark_read(unit, marks)
        announced = [(e.user_id, e.room_id, e.last_read_id, e.unread) for e in unit.events]
    assert [str(a.message) if isinstance(a, UserError) else a.unread for a in answers] == [
        1,
        NOT_A_MEMBER,
        NOT_IN_ROOM,
        0,
        1,
        0,
        NOT_IN_ROOM,
    ]
    assert answers[0].last_read_id == answers[4].last_read_id == ids[1]
    assert sorted(announced) == sorted([(zhao.id, company, ids[1], 1), (li.id, company, ids[2], 0)])
    # Through a read marker, concurrently: one group, each its own answer.
    marker = ReadMarker(services.transaction, max_group=100)
    marker.start()
    answers = await asyncio.gather(
        marker.mark(zhao, company, ids[2]),
        marker.mark(li, chengbei, ids[0]),
        return_exceptions=True,
    )
    await marker.stop()
    assert answers[0].unread == 0
    assert isinstance(answers[1], NotFound)
