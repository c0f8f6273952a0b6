"""What one client may hold or send: open streams per user, body size and pace, and the
cross-site rules for changes without a body and for origins."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.cast import Cast
from tests.support.clients import Stream, open_stream


async def test_a_user_cannot_hold_more_streams_than_the_cap(start_server, sign_in) -> None:
    server = start_server(max_streams_per_user=3)
    wang = await sign_in(server, "wangfang")
    streams: list[Stream] = []
    try:
        for _ in range(3):
            streams.append(await open_stream(server.ws_url, cookie=wang.session_cookie))
            await streams[-1].next("ready")
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            await open_stream(server.ws_url, cookie=wang.session_cookie)
        assert refused.value.response.status_code == 429
        assert json.loads(refused.value.response.body)["error"]
        lina = await sign_in(server, "lina")
        streams.append(await open_stream(server.ws_url, cookie=lina.session_cookie))
        await streams[-1].next("ready")

        await streams.pop(0).close()
        await asyncio.sleep(0.2)
        streams.append(await open_stream(server.ws_url, cookie=wang.session_cookie))
        assert (await streams[-1].next("ready"))["type"] == "ready"
    finally:
        for stream in streams:
            await stream.close()


async def test_an_oversized_body_is_refused_with_413_declared_or_streamed(
    server, login, cast: Cast
) -> None:
    wang = await login("wangfang")
    path = f"/api/v1/rooms/{cast.company_room_id}/messages"
    huge = json.dumps({"body": "码" * (600 * 1024), "client_id": "too-large-1"}).encode()
    declared = await wang.http.post(
        path,
        content=huge,
        headers={"X-CSRF-Token": wang.csrf_token, "Content-Type": "application/json"},
    )

    async def chunks():  # no Content-Length: the server counts as it reads
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start : start + 64 * 1024]

    streamed = await wang.http.post(
        path,
        content=chunks(),
        headers={"X-CSRF-Token": wang.csrf_token, "Content-Type": "application/json"},
    )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"]
    history = await wang.http.get(path)
    assert history.json()["messages"] == []


async def test_a_body_that_stops_arriving_gets_408_instead_of_holding_the_request(
    start_server,
) -> None:
    server = start_server(request_body_timeout_seconds=0.5)
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /api/v1/session HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user'
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), timeout=5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b'"error"' in answer


async def test_joining_a_room_with_the_cookie_and_no_body_needs_the_csrf_token(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    created = await trainer.http.post(
        "/api/v1/rooms",
        json={"name": "新业务答疑", "visibility": "public"},
        headers={"X-CSRF-Token": trainer.csrf_token},
    )
    room_id = created.json()["id"]
    wang = await login("wangfang")
    for headers in ({}, {"Content-Type": "text/plain"}, {"X-CSRF-Token": "wrong"}):
        forged = await wang.http.put(f"/api/v1/rooms/{room_id}/membership", headers=headers)
        assert forged.status_code == 403
        assert forged.json()["error"]
    mine = [room["id"] for room in (await wang.http.get("/api/v1/rooms")).json()["rooms"]]
    assert room_id not in mine
    joined = await wang.http.put(
        f"/api/v1/rooms/{room_id}/membership", headers={"X-CSRF-Token": wang.csrf_token}
    )
    assert joined.status_code == 200


async def test_an_origin_with_the_right_host_but_another_scheme_is_refused(
    server, login, cast: Cast
) -> None:
    wang = await login("wangfang")
    https_twin = server.url.replace("http://", "https://")
    forged = await wang.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        json={"body": "伪造", "client_id": "scheme-twin-1"},
        headers={"X-CSRF-Token": wang.csrf_token, "Origin": https_twin},
    )
    assert forged.status_code == 403
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await open_stream(server.ws_url, cookie=wang.session_cookie, origin=https_twin)
    assert refused.value.response.status_code == 403


async def test_with_a_public_origin_configured_only_that_origin_may_act(
    start_server, sign_in, cast: Cast
) -> None:
    server = start_server(public_origin="https://chat.example.com")
    wang = await sign_in(server, "wangfang")
    path = f"/api/v1/rooms/{cast.company_room_id}/messages"
    headers = {"X-CSRF-Token": wang.csrf_token}
    host_match = await wang.http.post(
        path,
        json={"body": "内网地址", "client_id": "public-origin-1"},
        headers={**headers, "Origin": server.url},
    )
    assert host_match.status_code == 403
    public = await wang.http.post(
        path,
        json={"body": "正式地址", "client_id": "public-origin-2"},
        headers={**headers, "Origin": "https://chat.example.com"},
    )
    assert public.status_code == 201, public.text
    stream = await open_stream(
        server.ws_url, cookie=wang.session_cookie, origin="https://chat.example.com"
    )
    await stream.close()


async def test_a_configured_public_origin_must_be_a_bare_origin(start_server) -> None:
    with pytest.raises(ValueError, match="public_origin"):
        start_server(public_origin="https://chat.example.com/counterline")


@pytest.mark.parametrize("origin", ["http://[::1", "http://[bad", "null", "http://"])
async def test_a_malformed_origin_is_refused_as_foreign_not_a_server_error(
    server, login, cast: Cast, origin: str
) -> None:
    wang = await login("wangfang")
    forged = await wang.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        json={"body": "伪造", "client_id": "bad-origin-1"},
        headers={"X-CSRF-Token": wang.csrf_token, "Origin": origin},
    )
    assert forged.status_code == 403
    assert forged.json()["error"]
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await open_stream(server.ws_url, cookie=wang.session_cookie, origin=origin)
    assert refused.value.response.status_code == 403
