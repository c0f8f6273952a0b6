"""Whose message is whose: a client id is its author's, and only its author sees it."""

from __future__ import annotations

from counterline.messages.schemas import withheld_fields
from tests.cast import Cast
from tests.support.clients import open_stream


async def test_a_member_reusing_anothers_client_id_posts_a_separate_message(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    victim = await wang.post_message(cast.company_room_id, "王芳的原话", "victim-id-0001")
    attacker = await li.post_message(cast.company_room_id, "冒名顶替", "victim-id-0001")
    assert victim.status_code == 201 and attacker.status_code == 201, attacker.text
    assert victim.json()["id"] != attacker.json()["id"]
    history = (await wang.http.get(f"/api/v1/rooms/{cast.company_room_id}/messages")).json()
    assert [(m["author"]["username"], m["body"]) for m in history["messages"]] == [
        ("wangfang", "王芳的原话"),
        ("lina", "冒名顶替"),
    ]


async def test_client_ids_are_shown_to_their_author_only(login, cast: Cast) -> None:
    wang = await login("wangfang")
    posted = await wang.post_message(cast.company_room_id, "只有我知道编号", "own-id-00001")
    retried = await wang.post_message(cast.company_room_id, "只有我知道编号", "own-id-00001")
    assert posted.json()["client_id"] == "own-id-00001"
    assert retried.status_code == 200 and retried.json()["client_id"] == "own-id-00001"
    url = f"/api/v1/rooms/{cast.company_room_id}/messages"
    [own] = (await wang.http.get(url)).json()["messages"]
    assert own["client_id"] == "own-id-00001"
    for username in ("lina", "zhaomin", "chengang"):
        viewer = await login(username)
        [seen] = (await viewer.http.get(url)).json()["messages"]
        assert seen["id"] == own["id"]
        assert seen["client_id"] is None, username


async def test_stream_frames_carry_no_client_id_not_even_to_the_author(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    await wang.post_message(cast.company_room_id, "补发的", "replayed-0001")
    viewers = [wang, await login("zhouqiang"), await login("zhaomin")]
    streams = [
        await open_stream(server.ws_url, cookie=viewer.session_cookie, last_message_id=0)
        for viewer in viewers
    ]
    try:
        replayed = [await stream.next("message.posted") for stream in streams]
        for stream in streams:
            await stream.next("ready")
        await wang.post_message(cast.company_room_id, "实时的", "live-id-0001")
        live = [await stream.next("message.posted") for stream in streams]
    finally:
        for stream in streams:
            await stream.close()
    for frame in replayed + live:
        assert "client_id" not in frame["message"], frame
    assert [frame["message"]["body"] for frame in live] == ["实时的"] * 3


def test_who_may_see_which_message_field_is_declared_once_in_the_shape() -> None:
    assert withheld_fields(staff=False, author=False) == {"client_id", "client_ip", "deleted_at"}
    assert withheld_fields(staff=False, author=True) == {"client_ip", "deleted_at"}
    assert withheld_fields(staff=True, author=False) == {"client_id"}
    assert withheld_fields(staff=True, author=True) == set()
