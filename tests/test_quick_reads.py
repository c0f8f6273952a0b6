"""The hottest reads (a page of history, the room list) are answered before FastAPI routes
them, on SQLite through a synchronous connection (quick_reads, web/quick_routes). Whatever
the quick path answers, the route answers the same, byte for byte and header for header:
each request below goes to a server with quick reads and to one without, over the same
database, and /metrics shows which requests the quick path answered itself.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Select, bindparam, func, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from counterline import quick_reads
from counterline.accounts.actions import get_user_named
from counterline.accounts.models import Role, User
from counterline.inbox.schemas import InboxPage
from counterline.messages.actions import post_message
from counterline.messages.models import Message
from counterline.quick_reads import QuickConnection
from counterline.rooms.models import Membership
from counterline.services import Services
from tests.cast import CHENGBEI, HEAD_OFFICE, HUAQIAO, Cast
from tests.support.clients import Client
from tests.support.live import LiveServer
from tests.test_inbox import start_conversation


@pytest.fixture
async def servers(start_server: Callable[..., LiveServer]) -> tuple[LiveServer, LiveServer]:
    """A server with quick reads and one without, over the same database."""
    return start_server(), start_server(quick_reads=False)


HTML = {"Accept": "text/html,application/xhtml+xml"}


async def pair(sign_in: Callable[..., Any], servers: Any, username: str) -> tuple[Client, Client]:
    quick, routed = servers
    return await sign_in(quick, username), await sign_in(routed, username)


async def both(clients: tuple[Client, Client], path: str, **headers: str) -> httpx.Response:
    """The quick server's answer, after checking the routed server answers the same."""
    quick, routed = [await client.http.get(path, headers=headers) for client in clients]
    assert quick.status_code == routed.status_code, (path, quick.text, routed.text)
    assert quick.content == routed.content, path
    assert _without_date(quick.headers) == _without_date(routed.headers), path
    return quick


def _without_date(headers: httpx.Headers) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in headers.items() if name != "date")


async def answered_quickly(server: LiveServer) -> dict[tuple[str, str], int]:
    """/metrics' counts: (route, "true"/"false") → requests."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    pattern = r'counterline_quick_reads_total\{route="(\w+)",answered="(\w+)"\} (\d+)'
    return {(route, flag): int(n) for route, flag, n in re.findall(pattern, text)}


async def test_history_pages_from_the_quick_path_are_the_routes_own(
    servers, sign_in, cast: Cast
) -> None:
    wang = await pair(sign_in, servers, "wangfang")
    zhao = await pair(sign_in, servers, "zhaomin")
    lina = await pair(sign_in, servers, "lina")
    room = cast.company_room_id
    ids = []
    for number in range(6):
        posted = await wang[0].post_message(room, f"第{number}条 **业务** @李娜", str(uuid.uuid4()))
        ids.append(posted.json()["id"])
    gone = await wang[0].http.delete(
        f"/api/v1/messages/{ids[2]}", headers={"X-CSRF-Token": wang[0].csrf_token}
    )
    assert gone.status_code == 204
    path = f"/api/v1/rooms/{room}/messages"
    asked = 0
    for viewer in (wang, zhao, lina):  # the author, a manager (IPs, tombstones), a colleague
        for query in ("", "?limit=2", f"?before={ids[4]}", f"?after={ids[0]}&limit=3", "?after=0"):
            assert (await both(viewer, path + query)).status_code == 200
        etag = (await both(viewer, path)).headers["etag"]
        assert (await both(viewer, path, **{"If-None-Match": etag})).status_code == 304
        asked += 7
    newest = (await both(zhao, path)).json()["messages"]
    assert [m["id"] for m in newest][-4:] == ids[2:]  # the manager sees the tombstone
    assert newest[-4]["deleted_at"] is not None
    assert ids[2] not in [m["id"] for m in (await both(lina, path)).json()["messages"]]
    asked += 2
    counts = await answered_quickly(servers[0])
    assert counts[("history_page", "true")] == asked
    assert ("history_page", "true") not in await answered_quickly(servers[1])


async def test_what_the_quick_path_does_not_take_the_route_answers(
    servers, sign_in, cast: Cast
) -> None:
    wang = await pair(sign_in, servers, "wangfang")
    room = cast.company_room_id
    path = f"/api/v1/rooms/{room}/messages"
    expected = {
        "?day=2026-01-05": 200,
        "?before=abc": 422,
        "?before=１": 422,  # a full-width digit is no id
        "?limit=0": 422,
        "?limit=201": 422,
        "?before=3&after=2": 400,
        "?before=3&before=4": 200,
        "?unknown=1": 200,
    }
    for query, status in expected.items():
        assert (await both(wang, path + query)).status_code == status, query
    assert (await both(wang, "/api/v1/rooms/abc/messages")).status_code == 422
    assert (await both(wang, "/api/v1/rooms/0/messages")).status_code == 422
    huaqiao_room = cast.branch_room_ids[HUAQIAO]
    refused = await both(wang, f"/api/v1/rooms/{huaqiao_room}/messages")
    assert refused.status_code == 404  # not hers: as the route says it
    async with httpx.AsyncClient(base_url=servers[0].url) as stranger:
        assert (await stranger.get(path)).status_code == 401
        assert (await stranger.get("/api/v1/rooms")).status_code == 401
    counts = await answered_quickly(servers[0])
    # Full-width, malformed and unknown options, a repeated option and day= are the
    # route's; so are the refusals (both options, not a member, nobody logged in).
    assert counts[("history_page", "false")] == 12
    assert ("history_page", "true") not in counts
    assert counts[("room_list", "false")] == 1


async def test_the_room_list_from_the_quick_path_is_the_routes_own(
    servers, sign_in, cast: Cast
) -> None:
    wang = await pair(sign_in, servers, "wangfang")
    chen = await pair(sign_in, servers, "chengang")
    lina = await pair(sign_in, servers, "lina")
    await lina[0].post_message(cast.company_room_id, "未读的一条", str(uuid.uuid4()))
    await start_conversation(wang[0], "lina")
    for viewer in (wang, chen, lina):
        listing = await both(viewer, "/api/v1/rooms")
        assert listing.status_code == 200
        assert (await both(viewer, "/api/v1/rooms?any=thing")).status_code == 200
        unchanged = {"If-None-Match": listing.headers["etag"]}
        assert (await both(viewer, "/api/v1/rooms", **unchanged)).status_code == 304
    rooms = (await both(wang, "/api/v1/rooms")).json()["rooms"]
    company = next(room for room in rooms if room["id"] == cast.company_room_id)
    assert company["unread"] == 1
    assert any(room["kind"] == "conversation" for room in rooms)
    counts = await answered_quickly(servers[0])
    assert counts[("room_list", "true")] == 10


async def test_the_room_page_from_the_quick_path_is_the_routes_own(
    servers, sign_in, cast: Cast
) -> None:
    wang = await pair(sign_in, servers, "wangfang")
    chen = await pair(sign_in, servers, "chengang")
    await wang[0].post_message(cast.company_room_id, "页面上的一条 <b>B1E</b>", str(uuid.uuid4()))
    for viewer, branch in ((wang, CHENGBEI), (chen, HEAD_OFFICE)):
        company = await both_pages(viewer, f"/rooms/{cast.company_room_id}")
        assert company.status_code == 200
        assert "页面上的一条 \\u003cb\\u003eB1E" in company.text  # in the boot data
        assert (await both_pages(viewer, f"/rooms/{cast.branch_room_ids[branch]}")).is_success
    expected = {"/rooms/abc": 404, "/rooms/0": 404, f"/rooms/{cast.branch_room_ids[HUAQIAO]}": 404}
    for path, status in expected.items():
        assert (await both_pages(wang, path)).status_code == status, path
    async with httpx.AsyncClient(base_url=servers[0].url) as stranger:
        assert (
            await stranger.get(f"/rooms/{cast.company_room_id}", headers=HTML)
        ).status_code == 303
    counts = await answered_quickly(servers[0])
    assert counts[("room_page", "true")] == 4
    # Malformed ids, a room not hers and nobody logged in: the route's.
    assert counts[("room_page", "false")] == 4
    assert ("room_page", "true") not in await answered_quickly(servers[1])


async def test_the_inbox_from_the_quick_path_is_the_routes_own(
    servers, sign_in, cast: Cast
) -> None:
    wang = await pair(sign_in, servers, "wangfang")
    lina = await pair(sign_in, servers, "lina")
    zhao = await pair(sign_in, servers, "zhaomin")
    dm = await start_conversation(wang[0], "lina")
    ids = []
    for number in range(3):
        posted = await wang[0].post_message(dm, f"私信{number} B1E-0D7", str(uuid.uuid4()))
        ids.append(posted.json()["id"])
        posted = await wang[0].post_message(
            cast.company_room_id, f"@李娜 @赵敏 第{number}条", str(uuid.uuid4())
        )
        ids.append(posted.json()["id"])
    assert (
        await lina[0].http.post(
            f"/api/v1/rooms/{dm}/read",
            json={"up_to": ids[2]},
            headers={"X-CSRF-Token": lina[0].csrf_token},
        )
    ).status_code == 200
    queries = ("", "?unread=true", "?unread=false&limit=2", f"?before={ids[4]}", "?before=0")
    for viewer in (lina, zhao):  # a clerk, and a manager who sees client IPs
        for query in queries:
            assert (await both(viewer, "/api/v1/inbox" + query)).status_code == 200
        etag = (await both(viewer, "/api/v1/inbox")).headers["etag"]
        assert (await both(viewer, "/api/v1/inbox", **{"If-None-Match": etag})).status_code == 304
        assert (await both(viewer, "/api/v1/inbox/count")).status_code == 200
    for viewer in (lina, zhao):  # rows straight to JSON: exactly the model's JSON
        answer = (await both(viewer, "/api/v1/inbox")).content
        assert InboxPage.model_validate_json(answer).model_dump_json().encode() == answer
    page = (await both(lina, "/api/v1/inbox")).json()
    assert [item["message"]["id"] for item in page["items"]] == ids[::-1]
    # She read the conversation up to its second message, the company room not at all.
    assert [item["unread"] for item in page["items"]] == [True] * 3 + [False, True, False]
    assert page["items"][1]["room"] == {"id": dm, "name": "王芳", "kind": "conversation"}
    assert page["items"][0]["room"]["id"] == cast.company_room_id
    assert (await both(lina, "/api/v1/inbox/count")).json() == {"unread": 4}
    assert page["items"][0]["message"]["client_ip"] is None
    assert (await both(zhao, "/api/v1/inbox")).json()["items"][0]["message"]["client_ip"]
    refused = {
        "?unread=1": 200,
        "?unread=yes": 200,
        "?limit=0": 422,
        "?limit=101": 422,
        "?before=abc": 422,
        "?before=１": 422,
        "?unread=true&unread=false": 200,
    }
    for query, status in refused.items():
        assert (await both(lina, "/api/v1/inbox" + query)).status_code == status, query
    counts = await answered_quickly(servers[0])
    assert counts[("inbox", "true")] == 2 * 7 + 4
    assert counts[("inbox", "false")] == len(refused)
    assert counts[("inbox_count", "true")] == 3
    assert ("inbox", "true") not in await answered_quickly(servers[1])


async def test_posts_from_the_quick_path_are_the_routes_own(servers, sign_in, cast: Cast) -> None:
    wang = await pair(sign_in, servers, "wangfang")
    room = cast.company_room_id
    path = f"/api/v1/rooms/{room}/messages"
    quick, routed = [
        await client.post_message(room, "**B1E-0D7** 请 @李娜 看一下", client_id)
        for client, client_id in zip(wang, ("quick-post-1", "routed-post-1"), strict=True)
    ]
    assert quick.status_code == routed.status_code == 201
    lengths = [int(answer.headers["content-length"]) for answer in (quick, routed)]
    assert abs(lengths[0] - lengths[1]) <= 2  # "routed-post-1" is one longer, ids may differ
    assert [h for h in _without_date(quick.headers) if h[0] != "content-length"] == [
        h for h in _without_date(routed.headers) if h[0] != "content-length"
    ]
    mine, theirs = quick.json(), routed.json()
    assert mine["id"] != theirs["id"]
    for varies in ("id", "client_id", "created_at"):
        mine.pop(varies), theirs.pop(varies)
    assert mine == theirs
    assert mine["mentions"][0]["name"] == "lina"
    again = await wang[0].post_message(room, "**B1E-0D7** 请 @李娜 看一下", "quick-post-1")
    assert (again.status_code, again.json()["id"]) == (200, quick.json()["id"])
    token = {"X-CSRF-Token": wang[0].csrf_token}, {"X-CSRF-Token": wang[1].csrf_token}
    declined = {  # each the route's to answer, refusals included
        "not JSON": dict(content=b"{body", headers={"Content-Type": "application/json"}),
        "not the schema": dict(json={"body": "好", "client_id": "short"}),
        "not an object": dict(json=["好", "quick-post-2"]),
        "a wrong token": dict(
            json={"body": "好", "client_id": "quick-post-3"}, headers={"X-CSRF-Token": "wrong"}
        ),
        "not her room": dict(json={"body": "好", "client_id": "quick-post-4"}),
        "a room id past 2**63": dict(json={"body": "好", "client_id": "quick-post-7"}),
        "nested too deep": dict(
            content=b"[" * 100_000, headers={"Content-Type": "application/json"}
        ),
    }
    elsewhere = {
        "not her room": f"/api/v1/rooms/{cast.branch_room_ids[HUAQIAO]}/messages",
        "a room id past 2**63": f"/api/v1/rooms/{2**63}/messages",
    }
    answered = {}
    for case, request in declined.items():
        answers = [
            await client.http.post(
                elsewhere.get(case, path),
                **{"headers": csrf, **request},  # type: ignore[arg-type]
            )
            for client, csrf in zip(wang, token, strict=True)
        ]
        assert answers[0].status_code == answers[1].status_code >= 400, case
        assert answers[0].content == answers[1].content, case
        answered[case] = answers[0]
    # The route read the body the quick path had read before it: it names the field.
    assert "client_id" in answered["not the schema"].text
    assert answered["not her room"].status_code == 404
    assert answered["a room id past 2**63"].status_code == 422
    assert answered["nested too deep"].status_code == 400

    async def chunks() -> Any:
        yield json.dumps({"body": "分块发送", "client_id": "quick-post-5"}).encode()

    chunked = await wang[0].http.post(
        path, content=chunks(), headers={**token[0], "Content-Type": "application/json"}
    )
    assert chunked.status_code == 201  # no declared length: the route reads it
    as_text = await wang[0].http.post(
        path,
        content=json.dumps({"body": "好", "client_id": "quick-post-6"}).encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert as_text.status_code == 403  # no token and not JSON: the route refuses it
    async with httpx.AsyncClient(base_url=servers[0].url) as stranger:
        anonymous = await stranger.post(path, json={"body": "好", "client_id": "x" * 8})
        assert anonymous.status_code == 401
    counts = await answered_quickly(servers[0])
    assert counts[("post_message", "true")] == 2  # the post and its retry
    # Bad JSON, a schema refusal, a list, a wrong token, not her room, plain text, nobody
    # logged in; the chunked body went straight to the route.
    assert counts[("post_message", "false")] == len(declined) + 2
    assert ("post_message", "true") not in await answered_quickly(servers[1])
    history = (await wang[0].http.get(path)).json()["messages"]
    assert [m["body"] for m in history].count("**B1E-0D7** 请 @李娜 看一下") == 2
    assert "分块发送" in [m["body"] for m in history]


async def both_pages(clients: tuple[Client, Client], path: str) -> httpx.Response:
    """As ``both`` for a page, each server's page read with its own session's CSRF token
    set aside."""
    answers = [await client.http.get(path, headers=HTML) for client in clients]
    quick, routed = [
        (answer.status_code, answer.text.replace(client.csrf_token, "CSRF"))
        for answer, client in zip(answers, clients, strict=True)
    ]
    assert quick == routed, path
    return answers[0]


async def test_quick_reads_answer_every_statement_as_sqlalchemy_does(
    services: Services, cast: Cast
) -> None:
    if services.quick_reads is None:
        pytest.skip("quick reads read a SQLite file; this run's database is PostgreSQL")
    await _post_with_mention(services, cast)
    run: list[str] = []
    services.quick_reads.statements.listeners.append(run.append)
    since = datetime(2020, 1, 1, tzinfo=UTC)
    checked = {  # statement → parameters; each kind of value SQLAlchemy converts
        select(User.username, User.role, User.must_change_password, User.created_at).where(
            User.username == bindparam("username")
        ): {"username": "wangfang"},
        select(Message.id, Message.mentions, Message.created_at, Message.edited_at).where(
            Message.created_at > bindparam("since")  # a timestamp bound, as stored
        ): {"since": since},
        select(func.count()).select_from(User).where(User.active): {},  # an unnamed column
        select(User.id, User.username).where(User.id.in_(bindparam("ids", expanding=True))): {
            "ids": [1, 2, 3]
        },
    }
    for statement, parameters in checked.items():
        async with services.reading() as unit:
            expected = (await unit.session.execute(statement, parameters)).all()
        for _ in range(2):  # prepared on the first run, reused on the second
            async with services.quick_read() as unit:
                connection = await unit.session.connection()
                answer = (await connection.execute(statement, parameters)).all()
            assert answer == [tuple(row) for row in expected], statement
            assert expected, statement
    assert len(run) == 2 * len(checked)
    assert run[-1].endswith("IN (?, ?, ?)")  # the list written out, as SQLAlchemy does
    await _timestamps_written_by_hand_read_as_sqlalchemy_reads_them(services, next(iter(checked)))
    async with services.quick_read() as unit:
        connection = await unit.session.connection()
        user = (await connection.execute(next(iter(checked)), {"username": "lina"})).first()
        mentioned = (await connection.execute(list(checked)[1], {"since": since})).all()
    assert user is not None
    assert (user.username, user.role, user.must_change_password) == ("lina", Role.clerk, False)
    assert user.created_at.tzinfo == UTC
    assert [row.mentions[0]["name"] for row in mentioned if row.mentions] == ["lina"]


_INSERT_MESSAGES = (
    sqlite_insert(Message)
    .on_conflict_do_nothing(index_elements=[Message.author_id, Message.client_id])
    .returning(Message.id, Message.client_id, Message.created_at)
)
_READ_UP_TO = (
    update(Membership)
    .where(
        Membership.room_id == bindparam("b_room"),
        Membership.user_id == bindparam("b_user"),
        Membership.read_seq < bindparam("b_seq"),
    )
    .values(read_seq=bindparam("b_seq"))
)
_TAKE_NUMBERS = text(
    "UPDATE rooms SET last_seq = last_seq + :n WHERE id = :room RETURNING last_seq"
)
_STORED = text(
    "SELECT substr(client_id, instr(client_id, '-')), room_id, author_id, author_branch_id,"
    " client_ip, body, body_html, mentions, created_at, typeof(created_at), seq, edited_at"
    " FROM messages WHERE client_id LIKE :way || '-%' ORDER BY id"
)


async def test_writes_on_the_driver_store_and_answer_what_sqlalchemy_does(
    services: Services, cast: Cast
) -> None:
    """A post's statements run on the writer's sqlite3 connection (``quick_reads.direct``):
    each kind of write, run there and through SQLAlchemy, stores the same bytes and
    answers the same rows and counts."""
    if services.quick_reads is None:
        pytest.skip("the driver is SQLite's; this run's database is PostgreSQL")
    async with services.reading() as unit:
        wang = await get_user_named(unit, "wangfang")
    room = cast.company_room_id

    def rows(way: str) -> list[dict[str, Any]]:
        return [
            {
                "room_id": room,
                "author_id": wang.id,
                "author_branch_id": wang.branch_id,
                "client_id": f"{way}-{n}",
                "client_ip": "10.0.0.1",
                "body": f"第{n}条 B1E",
                "body_html": f"<p>第{n}条 B1E</p>",
                "mentions": [{"kind": "user", "id": wang.id, "name": "王芳"}] if n else None,
                "created_at": datetime(2026, 1, 2, 3, 4, 5, n * 300_001, tzinfo=UTC),
                "seq": n,
            }
            for n in range(3)
        ]

    answers = {}
    for base, way in ((10, "sqlalchemy"), (20, "driver")):
        async with services.transaction() as unit:
            if way == "driver":
                connection = await quick_reads.direct(unit.session)
                assert isinstance(connection, QuickConnection)
            else:
                connection = await unit.session.connection()
            inserted = (await connection.execute(_INSERT_MESSAGES, rows(way))).all()
            retried = (await connection.execute(_INSERT_MESSAGES, rows(way)[1:])).all()
            retried += (await connection.execute(_INSERT_MESSAGES, rows(way)[0])).all()
            moves = [{"b_room": room, "b_user": wang.id, "b_seq": base + n} for n in (2, 1)]
            moved = (await connection.execute(_READ_UP_TO, moves)).rowcount
            (last,) = (await connection.execute(_TAKE_NUMBERS, {"n": 3, "room": room})).all()[0]
        async with services.reading() as unit:
            stored = (await unit.session.execute(_STORED, {"way": way})).all()
        ids = [row.id for row in inserted]
        assert ids == sorted(ids) and len(set(ids)) == 3
        answers[way] = (
            [(row.client_id.split("-")[1], row.created_at) for row in inserted],
            retried,
            moved,
            last,
            [tuple(row) for row in stored],
        )
    sqlalchemy, driver = answers["sqlalchemy"], answers["driver"]
    assert driver[3] == sqlalchemy[3] + 3  # the numbers taken follow on
    assert driver[:3] + driver[4:] == sqlalchemy[:3] + sqlalchemy[4:]
    assert sqlalchemy[:3] == (
        [(str(n), datetime(2026, 1, 2, 3, 4, 5, n * 300_001, tzinfo=UTC)) for n in range(3)],
        [],
        1,
    )
    assert [row[7] is None for row in sqlalchemy[4]] == [True, False, False]


async def test_writes_on_the_driver_follow_the_sessions_transaction(services: Services) -> None:
    """A session that commits and goes on writes in its next transaction, which may be on
    another connection: what it wrote there on the driver rolls back with it."""
    if services.quick_reads is None:
        pytest.skip("the driver is SQLite's; this run's database is PostgreSQL")
    rename = text("UPDATE branches SET name = :name WHERE name = :old")
    async with services.database.writers() as session:
        first = await quick_reads.direct(session)
        await first.execute(rename, {"name": "已提交", "old": HEAD_OFFICE})
        await session.commit()
        second = await quick_reads.direct(session)
        await second.execute(rename, {"name": "已撤销", "old": HUAQIAO})
        await session.rollback()
    async with services.reading() as unit:
        names = set((await unit.session.scalars(text("SELECT name FROM branches"))).all())
    assert {"已提交", HUAQIAO} <= names
    assert not {"已撤销", HEAD_OFFICE} & names


async def _timestamps_written_by_hand_read_as_sqlalchemy_reads_them(
    services: Services, statement: Select[Any]
) -> None:
    """Not as SQLAlchemy writes them: without a fraction of a second, with an offset."""
    written = {"wangfang": "2026-01-02 03:04:05", "lina": "2026-01-02 03:04:05+08:00"}
    async with services.transaction() as unit:
        for username, at in written.items():
            await unit.session.execute(
                text("UPDATE users SET created_at = :at WHERE username = :username"),
                {"at": at, "username": username},
            )
    for username in written:
        async with services.reading() as unit:
            expected = (await unit.session.execute(statement, {"username": username})).one()
        async with services.quick_read() as unit:
            connection = await unit.session.connection()
            answer = (await connection.execute(statement, {"username": username})).first()
        assert answer == tuple(expected)
        assert answer.created_at.tzinfo == UTC


async def _post_with_mention(services: Services, cast: Cast) -> None:
    async with services.transaction() as unit:
        wang = await get_user_named(unit, "wangfang")
        await post_message(
            unit, wang, cast.company_room_id, "@李娜 看一下", "prepared-1", "10.0.0.1"
        )
