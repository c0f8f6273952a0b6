"""No malformed input answers 5xx: each gets a clear 4xx with ``{"error"}``, and the
keep-alive connection that carried it still serves the next request."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from sqlalchemy import func, select

from counterline.rooms.models import Membership, Room
from tests.cast import Cast
from tests.support.clients import Client, open_stream
from tests.support.rows import count_rows
from tests.support.waiting import frames_until_pong

TOO_BIG = 2**63  # one past the largest id a 64-bit column holds
LONE_SURROGATE_BODY = '{"body": "x\\ud800y", "client_id": "surrogate-0001"}'
JSON = {"Content-Type": "application/json"}
JOINS = 16


def assert_refused(response: httpx.Response, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.json()["error"], response.text


async def raw_post(client: Client, path: str, content: str) -> httpx.Response:
    return await client.http.post(
        path, content=content, headers={**JSON, "X-CSRF-Token": client.csrf_token}
    )


async def refused_handshake(server, client: Client, last_message_id: str) -> tuple[int, dict]:
    """The HTTP status and JSON body that refused the WebSocket handshake."""
    try:
        await websockets.connect(
            f"{server.ws_url}/api/v1/stream?last_message_id={last_message_id}",
            additional_headers={"Cookie": f"counterline_session={client.session_cookie}"},
        )
    except websockets.exceptions.InvalidStatus as refused:
        return refused.response.status_code, json.loads(refused.response.body or b"{}")
    raise AssertionError(f"the stream accepted last_message_id={last_message_id[:20]}")


async def test_ids_beyond_64_bits_in_api_paths_answer_a_json_error(login, cast: Cast) -> None:
    wang = await login("wangfang")
    csrf = {"X-CSRF-Token": wang.csrf_token}
    room = f"/api/v1/rooms/{TOO_BIG}"
    answers = [
        await wang.http.get(f"{room}/messages"),
        await wang.http.post(f"{room}/messages", json={"body": "x", "client_id": "big-id-01"}),
        await wang.http.put(f"{room}/membership", headers=csrf),
        await wang.http.post(f"{room}/members", json={"username": "lina"}, headers=csrf),
        await wang.http.get("/api/v1/rooms/0/messages"),
    ]
    for response in answers:
        assert_refused(response, 422)


@pytest.mark.parametrize("option", ["before", "after"])
async def test_before_and_after_beyond_64_bits_answer_a_json_error(
    login, cast: Cast, option: str
) -> None:
    wang = await login("wangfang")
    response = await wang.http.get(
        f"/api/v1/rooms/{cast.company_room_id}/messages", params={option: str(TOO_BIG)}
    )
    assert_refused(response, 422)
    assert option in response.json()["error"]


async def test_room_page_with_an_id_beyond_64_bits_shows_a_not_found_page(login) -> None:
    wang = await login("wangfang")
    wang.http.headers["Accept-Language"] = "en"
    response = await wang.http.get(f"/rooms/{TOO_BIG}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found." in response.text


async def test_a_day_no_message_can_be_from_is_refused_with_a_clear_error(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    path = f"/api/v1/rooms/{cast.company_room_id}/messages"
    too_early = await wang.http.get(path, params={"day": "0001-01-01"})
    last_day = await wang.http.get(path, params={"day": "9999-12-31"})
    a_number = await wang.http.get(path, params={"day": "0"})  # not a Unix time: YYYY-MM-DD
    assert_refused(too_early, 400)
    assert_refused(a_number, 422)
    assert "1970-01-01" in too_early.json()["error"]
    assert last_day.status_code == 200, last_day.text
    assert last_day.json()["messages"] == []


async def test_a_message_with_a_lone_surrogate_is_refused_and_not_stored(login, cast: Cast) -> None:
    wang = await login("wangfang")
    path = f"/api/v1/rooms/{cast.company_room_id}/messages"
    response = await raw_post(wang, path, LONE_SURROGATE_BODY)
    history = await wang.http.get(path)
    assert_refused(response, 400)
    assert "Unicode" in response.json()["error"]
    assert history.json()["messages"] == []


async def test_a_room_name_with_a_lone_surrogate_is_refused_and_no_room_is_made(
    login, services
) -> None:
    zhang = await login("zhangwei")
    before = await count_rows(services, Room)
    response = await raw_post(zhang, "/api/v1/rooms", '{"name": "\\udfff\\ud83d\\ude00"}')
    assert_refused(response, 400)
    assert await count_rows(services, Room) == before


async def test_raw_surrogate_bytes_are_refused_and_an_escaped_pair_is_one_character(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    path = f"/api/v1/rooms/{cast.company_room_id}/messages"
    raw_surrogate = await wang.http.post(
        path,
        content=b'{"body": "x\xed\xa0\x80y", "client_id": "surrogate-0002"}',
        headers={**JSON, "X-CSRF-Token": wang.csrf_token},
    )
    pair = await raw_post(wang, path, '{"body": "\\ud83d\\ude00", "client_id": "pair-0001"}')
    assert_refused(raw_surrogate, 400)
    assert pair.status_code == 201, pair.text
    assert pair.json()["body"] == "😀"


async def test_surrogates_cannot_arrive_in_forms_or_query_strings(login, server) -> None:
    wang = await login("wangfang")
    query = await wang.http.get("/login?next=%ED%A0%80")
    async with httpx.AsyncClient(base_url=server.url) as http:
        form = await http.post(
            "/account/language",
            content="language=%ED%A0%80&next=%2F",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert query.status_code == 303  # logged in: on to "next", which is no path of ours
    assert query.headers["location"] == "/"
    assert form.status_code == 400  # "\ufffd" is no language


@pytest.mark.parametrize(
    "last_message_id",
    ["%C2%B2", "1" * 5000, str(TOO_BIG), "%D9%A1"],
    ids=["superscript-two", "5000-digits", "2**63", "arabic-indic-one"],
)
async def test_a_resume_point_that_is_no_message_id_refuses_the_stream(
    login, server, last_message_id: str
) -> None:
    wang = await login("wangfang")
    status, body = await refused_handshake(server, wang, last_message_id)
    assert status == 400, body
    assert "last_message_id" in body["error"]


async def test_the_largest_resume_point_is_accepted(login, server) -> None:
    wang = await login("wangfang")
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie, last_message_id=2**63 - 1)
    try:
        ready = await stream.next("ready")
    finally:
        await stream.close()
    assert ready["type"] == "ready"


async def test_concurrent_joins_of_one_room_all_succeed_with_one_membership(
    login, server, services
) -> None:
    zhang = await login("zhangwei")
    li = await login("lina")
    created = await zhang.http.post(
        "/api/v1/rooms", json={"name": "并发加入"}, headers={"X-CSRF-Token": zhang.csrf_token}
    )
    room_id = created.json()["id"]
    tabs = [tab_of(server, li) for _ in range(JOINS)]
    stream = await open_stream(server.ws_url, cookie=li.session_cookie)
    try:
        await stream.next("ready")
        # Each tab's connection is open before the joins, so they all arrive at once.
        await asyncio.gather(*(tab.get("/api/v1/session") for tab in tabs))
        joins = await asyncio.gather(
            *(tab.put(f"/api/v1/rooms/{room_id}/membership") for tab in tabs)
        )
        frames = await frames_until_pong(stream)
    finally:
        await stream.close()
        await asyncio.gather(*(tab.aclose() for tab in tabs))
    assert [join.status_code for join in joins] == [200] * JOINS, [j.text for j in joins]
    assert await memberships(services, room_id, li.user["id"]) == 1
    assert [frame["room"]["id"] for frame in frames if frame["type"] == "room.joined"] == [room_id]


def tab_of(server, client: Client) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url,
        cookies={"counterline_session": client.session_cookie},
        headers={"X-CSRF-Token": client.csrf_token},
        timeout=20,
    )


async def memberships(services, room_id: int, user_id: int) -> int:
    async with services.reading() as unit:
        return await unit.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.room_id == room_id, Membership.user_id == user_id)
        )


async def test_the_keep_alive_connection_serves_the_next_request_after_each_malformed_one(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    room = f"/api/v1/rooms/{cast.company_room_id}/messages"
    malformed = [
        wang.http.build_request("GET", f"/api/v1/rooms/{TOO_BIG}/messages"),
        wang.http.build_request("GET", room, params={"before": str(TOO_BIG)}),
        wang.http.build_request("GET", room, params={"after": str(TOO_BIG)}),
        wang.http.build_request("GET", room, params={"day": "0001-01-01"}),
        wang.http.build_request("GET", f"/rooms/{TOO_BIG}"),
        wang.http.build_request(
            "POST",
            room,
            content=LONE_SURROGATE_BODY,
            headers={**JSON, "X-CSRF-Token": wang.csrf_token},
        ),
    ]
    for request in malformed:
        bad = await wang.http.send(request)
        good = await wang.http.get("/api/v1/session")
        assert 400 <= bad.status_code < 500, (request.url, bad.status_code)
        assert good.status_code == 200
        assert local_port(bad) == local_port(good), f"connection closed after {request.url}"


def local_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]
