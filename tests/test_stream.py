"""The WebSocket stream: live delivery, catch-up, reconnects, heartbeats, ending sessions."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import websockets
from sqlalchemy import update

from counterline.accounts.models import Session
from counterline.db import utcnow
from counterline.realtime.hub import CLOSE_SESSION_ENDED
from tests.cast import CHENGBEI, HUAQIAO, PASSWORD, Cast
from tests.support.clients import message_ids, open_stream, post
from tests.support.waiting import closed_with, frames_until_pong, frames_until_ready


async def test_ping_is_answered_with_pong_and_junk_with_an_error(login, server) -> None:
    wang = await login("wangfang")
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie)
    try:
        await stream.next("ready")
        before_pong = await frames_until_pong(stream)
        await stream.socket.send("not json")
        complaint = await stream.next("error")
        after_error = await frames_until_pong(stream)
    finally:
        await stream.close()
    # Her own "online" announcement may arrive at any point under load.
    assert {frame["type"] for frame in before_pong + after_error} <= {"presence.changed"}
    assert complaint["error"]


async def test_messages_reach_room_members_only(login, server, cast: Cast) -> None:
    wang = await login("wangfang")
    zhao = await login("zhaomin")
    li = await login("lina")
    colleague = await open_stream(server.ws_url, cookie=zhao.session_cookie)
    other_branch = await open_stream(server.ws_url, cookie=li.session_cookie)
    try:
        await colleague.next("ready")
        await other_branch.next("ready")
        internal = await post(wang, cast.branch_room_ids[CHENGBEI], "城北内部通知", "live-0001")
        public = await post(wang, cast.company_room_id, "全公司通知", "live-0002")
        assert message_ids(await frames_until_pong(colleague)) == [internal, public]
        seen_by_other_branch = await frames_until_pong(other_branch)
    finally:
        await colleague.close()
        await other_branch.close()
    assert message_ids(seen_by_other_branch) == [public]
    [frame] = [f for f in seen_by_other_branch if f["type"] == "message.posted"]
    assert frame["message"]["body"] == "全公司通知"
    assert frame["message"]["author"]["username"] == "wangfang"
    assert frame["message"]["branch"]["name"] == CHENGBEI


async def test_catch_up_sends_exactly_the_missed_messages_in_order_before_ready(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    seen = await post(wang, cast.company_room_id, "已经看过", "catch-0001")
    missed = [
        await post(li, cast.company_room_id, "错过一", "catch-0002"),
        await post(wang, cast.branch_room_ids[CHENGBEI], "错过二", "catch-0003"),
    ]
    await post(li, cast.branch_room_ids[HUAQIAO], "别的营业厅", "catch-0004")
    missed.append(await post(li, cast.company_room_id, "错过三", "catch-0005"))
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie, last_message_id=seen)
    try:
        replayed, ready = await frames_until_ready(stream)
        after_ready = await frames_until_pong(stream)
        live = await post(li, cast.company_room_id, "连上以后", "catch-0006")
        then = await frames_until_pong(stream)
    finally:
        await stream.close()
    assert message_ids(replayed) == missed
    assert [f["message"]["body"] for f in replayed if "message" in f] == [
        "错过一",
        "错过二",
        "错过三",
    ]
    assert ready["last_message_id"] == missed[-1]
    assert message_ids(after_ready) == []
    assert message_ids(then) == [live]


async def test_stream_without_a_last_message_id_replays_nothing(login, server, cast) -> None:
    wang = await login("wangfang")
    latest = await post(wang, cast.company_room_id, "旧消息", "fresh-0001")
    stream = await open_stream(server.ws_url, cookie=wang.session_cookie)
    try:
        replayed, ready = await frames_until_ready(stream)
        assert message_ids(await frames_until_pong(stream)) == []
    finally:
        await stream.close()
    assert message_ids(replayed) == []
    assert ready["last_message_id"] == latest
    assert cast["wangfang"].id in ready["online_user_ids"]


async def test_reconnect_after_a_server_restart_loses_and_repeats_nothing(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    stream = await open_stream(server.ws_url, cookie=li.session_cookie, last_message_id=0)
    await frames_until_ready(stream)
    first = await post(wang, cast.company_room_id, "重启前", "restart-001")
    assert message_ids(await frames_until_pong(stream)) == [first]
    last_seen = first

    await asyncio.to_thread(server.restart)
    assert await closed_with(stream) is not None
    missed = [
        await post(wang, cast.company_room_id, f"重启后{number}", f"restart-{number:03}")
        for number in range(2, 5)
    ]
    stream = await open_stream(server.ws_url, cookie=li.session_cookie, last_message_id=last_seen)
    try:
        replayed, ready = await frames_until_ready(stream)
        live = await post(wang, cast.company_room_id, "恢复了", "restart-005")
        after = await frames_until_pong(stream)
    finally:
        await stream.close()
    assert message_ids(replayed) == missed
    assert ready["last_message_id"] == missed[-1]
    assert message_ids(after) == [live]


async def test_new_topic_room_reaches_members_already_connected(login, server) -> None:
    zhang = await login("zhangwei")
    li = await login("lina")
    creator = await open_stream(server.ws_url, cookie=zhang.session_cookie)
    member = await open_stream(server.ws_url, cookie=li.session_cookie)
    try:
        await creator.next("ready")
        await member.next("ready")
        created = await zhang.http.post(
            "/api/v1/rooms",
            json={"name": "窗口礼仪", "visibility": "invite_only"},
            headers={"X-CSRF-Token": zhang.csrf_token},
        )
        room_id = created.json()["id"]
        joined_creator = await creator.next("room.joined")
        added = await zhang.http.post(
            f"/api/v1/rooms/{room_id}/members",
            json={"username": "lina"},
            headers={"X-CSRF-Token": zhang.csrf_token},
        )
        assert added.status_code == 200
        joined_member = await member.next("room.joined")
        message = await post(zhang, room_id, "欢迎加入", "topic-00001")
        to_creator = await creator.next("message.posted")
        to_member = await member.next("message.posted")
    finally:
        await creator.close()
        await member.close()
    assert joined_creator["room"]["id"] == joined_member["room"]["id"] == room_id
    assert joined_member["room"]["name"] == "窗口礼仪"
    assert to_creator["message"]["id"] == to_member["message"]["id"] == message
    assert to_member["message"]["room_id"] == room_id


async def test_joining_a_public_room_subscribes_the_open_stream(login, server) -> None:
    zhang = await login("zhangwei")
    li = await login("lina")
    created = await zhang.http.post(
        "/api/v1/rooms", json={"name": "社保卡"}, headers={"X-CSRF-Token": zhang.csrf_token}
    )
    room_id = created.json()["id"]
    stream = await open_stream(server.ws_url, cookie=li.session_cookie)
    try:
        await stream.next("ready")
        before_joining = await post(zhang, room_id, "加入前", "public-0001")
        joined = await li.http.put(
            f"/api/v1/rooms/{room_id}/membership", headers={"X-CSRF-Token": li.csrf_token}
        )
        assert joined.status_code == 200
        await stream.next("room.joined")
        after_joining = await post(zhang, room_id, "加入后", "public-0002")
        received = message_ids(await frames_until_pong(stream))
    finally:
        await stream.close()
    assert before_joining not in received
    assert received == [after_joining]


async def test_logout_closes_that_sessions_sockets_with_4001(login, server) -> None:
    leaving = await login("wangfang")
    staying = await login("wangfang")
    tabs = [await open_stream(server.ws_url, cookie=leaving.session_cookie) for _ in range(2)]
    other = await open_stream(server.ws_url, cookie=staying.session_cookie)
    try:
        for stream in [*tabs, other]:
            await stream.next("ready")
        response = await leaving.http.delete(
            "/api/v1/session", headers={"X-CSRF-Token": leaving.csrf_token}
        )
        assert response.status_code == 204
        assert [await closed_with(tab) for tab in tabs] == [4001, 4001]
        told = [
            f["type"] for f in await frames_until_pong(other) if f["type"] != "presence.changed"
        ]
        assert told == ["session.ended"]
        assert (await staying.http.get("/api/v1/session")).status_code == 200
    finally:
        for stream in [*tabs, other]:
            await stream.close()


async def test_password_change_closes_the_other_sessions_sockets(login, server) -> None:
    here = await login("wangfang")
    elsewhere = await login("wangfang")
    own_tab = await open_stream(server.ws_url, cookie=here.session_cookie)
    other_tab = await open_stream(server.ws_url, cookie=elsewhere.session_cookie)
    try:
        await own_tab.next("ready")
        await other_tab.next("ready")
        response = await here.http.put(
            "/api/v1/session/password",
            json={"current_password": PASSWORD, "new_password": "a-new-pass-2026"},
            headers={"X-CSRF-Token": here.csrf_token},
        )
        assert response.status_code == 204
        assert await closed_with(other_tab) == 4001
        assert message_ids(await frames_until_pong(own_tab)) == []
        assert (await here.http.get("/api/v1/session")).status_code == 200
    finally:
        await own_tab.close()
        await other_tab.close()


async def test_a_malformed_resume_point_is_refused_with_a_clear_error(login, server) -> None:
    wang = await login("wangfang")
    try:
        await websockets.connect(
            f"{server.ws_url}/api/v1/stream?last_message_id=12abc",
            additional_headers={"Cookie": f"counterline_session={wang.session_cookie}"},
        )
    except websockets.exceptions.InvalidStatus as refused:
        response = refused.response
    else:
        raise AssertionError("the stream accepted a malformed last_message_id")
    assert response.status_code == 400
    assert "last_message_id" in json.loads(response.body)["error"]


async def test_under_a_plain_asgi_server_the_stream_still_catches_up_and_delivers_live(
    start_server, sign_in, cast: Cast
) -> None:
    server = start_server(plain_uvicorn=True)
    wang = await sign_in(server, "wangfang")
    zhao = await sign_in(server, "zhaomin")
    before = await post(wang, cast.company_room_id, "连接前", "plain-0001")
    colleague = await open_stream(server.ws_url, cookie=zhao.session_cookie, last_message_id=0)
    try:
        replayed, _ready = await frames_until_ready(colleague)
        live = await post(wang, cast.company_room_id, "连接后", "plain-0002")
        heard = await frames_until_pong(colleague)
        writes_directly = [c.direct for c in server.services.hub.connections()]
    finally:
        await colleague.close()
    assert message_ids(replayed) == [before]
    assert message_ids(heard) == [live]
    assert writes_directly == [False]  # the ASGI fallback did the sending


async def test_an_open_tab_is_logged_out_when_its_session_reaches_its_lifetime(
    login, server, services, cast: Cast
) -> None:
    wang = await login("wangfang")
    lifetime = timedelta(hours=server.settings.session_absolute_hours)
    async with services.transaction() as unit:
        await unit.session.execute(
            update(Session)
            .where(Session.user_id == cast["wangfang"].id)
            .values(created_at=utcnow() - lifetime + timedelta(seconds=2))
        )
    # As if the session were that old: the server's few seconds of cached sessions too.
    server.services.identities.forget_user(cast["wangfang"].id)
    tab = await open_stream(server.ws_url, cookie=wang.session_cookie)
    await tab.next("ready")
    assert await closed_with(tab, timeout=15) == CLOSE_SESSION_ENDED
