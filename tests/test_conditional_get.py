"""Conditional GET on the hot reads: a returning tab sends back the page's ETag and is
answered 304 with no body while nothing changed; anything that changes the answer changes
the ETag; a manager (who sees client IPs) and a clerk never share a representation. And
the history page built straight from the rows answers exactly what the message model would.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
from fastapi.routing import APIRoute
from PIL import Image
from pydantic_core import to_json

from counterline.accounts.actions import get_user_named
from counterline.messages import actions
from counterline.services import Services
from tests.cast import Cast
from tests.support.clients import Client

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")


def messages_path(room_id: int) -> str:
    return f"/api/v1/rooms/{room_id}/messages"


async def get(client: Client, path: str, etag: str | None = None) -> httpx.Response:
    headers = {"If-None-Match": etag} if etag else {}
    return await client.http.get(path, headers=headers)


async def posted(client: Client, room_id: int, body: str, client_id: str) -> dict[str, Any]:
    response = await client.post_message(room_id, body, client_id)
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_unchanged_newest_page_is_answered_304_with_no_body(login, cast: Cast) -> None:
    wang = await login("wangfang")
    await posted(wang, cast.company_room_id, "新宽带资费下月起执行", "etag-0001")
    first = await get(wang, messages_path(cast.company_room_id))
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    again = await get(wang, messages_path(cast.company_room_id), etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    for name in SECURITY_HEADERS:
        assert name in again.headers
    # A weak comparison and a list of validators match too, as RFC 9110 says.
    listed = await get(wang, messages_path(cast.company_room_id), f'"other", W/{etag}')
    assert listed.status_code == 304


async def test_a_new_message_changes_the_etag_so_the_next_get_is_answered_in_full(
    login, cast: Cast
) -> None:
    wang, lina = await login("wangfang"), await login("lina")
    await posted(wang, cast.company_room_id, "第一条", "etag-0002")
    first = await get(wang, messages_path(cast.company_room_id))
    etag = first.headers["etag"]
    await posted(lina, cast.company_room_id, "第二条", "etag-0003")
    after = await get(wang, messages_path(cast.company_room_id), etag)
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert [m["body"] for m in after.json()["messages"]] == ["第一条", "第二条"]


async def test_an_edit_and_a_deletion_change_the_etag(login, cast: Cast) -> None:
    wang = await login("wangfang")
    message = await posted(wang, cast.company_room_id, "改之前", "etag-0004")
    etag = (await get(wang, messages_path(cast.company_room_id))).headers["etag"]
    edited = await wang.http.patch(
        f"/api/v1/messages/{message['id']}",
        json={"body": "改之后"},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert edited.status_code == 200, edited.text
    after_edit = await get(wang, messages_path(cast.company_room_id), etag)
    assert after_edit.status_code == 200
    assert after_edit.json()["messages"][0]["body"] == "改之后"
    deleted = await wang.http.delete(
        f"/api/v1/messages/{message['id']}", headers={"X-CSRF-Token": wang.csrf_token}
    )
    assert deleted.status_code == 204
    after_delete = await get(wang, messages_path(cast.company_room_id), after_edit.headers["etag"])
    assert after_delete.status_code == 200
    assert after_delete.json()["messages"] == []


async def test_a_manager_and_a_clerk_never_share_a_cached_page(login, cast: Cast) -> None:
    wang, zhao = await login("wangfang"), await login("zhaomin")
    await posted(wang, cast.company_room_id, "我的地址只给管理人员看", "etag-0005")
    staff = await get(zhao, messages_path(cast.company_room_id))
    assert staff.json()["messages"][0]["client_ip"] == "127.0.0.1"
    # The clerk presents the manager's validator: she gets her own page, IP withheld.
    clerk = await get(wang, messages_path(cast.company_room_id), staff.headers["etag"])
    assert clerk.status_code == 200
    assert clerk.headers["etag"] != staff.headers["etag"]
    assert clerk.json()["messages"][0]["client_ip"] is None
    # And the other way round: the manager never gets the clerk's page as "not modified".
    back = await get(zhao, messages_path(cast.company_room_id), clerk.headers["etag"])
    assert back.status_code == 200
    assert back.json()["messages"][0]["client_ip"] == "127.0.0.1"
    # The author's own client id is hers alone: another clerk's page differs.
    lina = await login("lina")
    other = await get(lina, messages_path(cast.company_room_id), clerk.headers["etag"])
    assert other.status_code == 200
    assert other.json()["messages"][0]["client_id"] is None
    assert clerk.json()["messages"][0]["client_id"] == "etag-0005"


async def test_the_room_list_is_answered_304_until_an_unread_count_changes(
    login, cast: Cast
) -> None:
    wang, lina = await login("wangfang"), await login("lina")
    first = await get(wang, "/api/v1/rooms")
    assert first.status_code == 200
    etag = first.headers["etag"]
    again = await get(wang, "/api/v1/rooms", etag)
    assert again.status_code == 304
    assert again.content == b""
    await posted(lina, cast.company_room_id, "城北的同事请看", "etag-0006")
    after = await get(wang, "/api/v1/rooms", etag)
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    company = next(r for r in after.json()["rooms"] if r["id"] == cast.company_room_id)
    assert company["unread"] == 1
    # Another user's list is never "not modified" for her.
    other = await get(lina, "/api/v1/rooms", after.headers["etag"])
    assert other.status_code == 200


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 20, 20)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_history_pages_answer_exactly_what_the_message_model_would(
    login, services: Services, cast: Cast
) -> None:
    wang, lina, zhao = await login("wangfang"), await login("lina"), await login("zhaomin")
    room = cast.company_room_id
    upload = await wang.http.post(
        "/api/v1/uploads",
        files={"file": ("图.png", png(), "image/png")},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert upload.status_code == 201, upload.text
    with_picture = await wang.http.post(
        messages_path(room),
        json={"body": "看图", "client_id": "etag-0010", "attachments": [upload.json()["id"]]},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert with_picture.status_code == 201, with_picture.text
    await posted(lina, room, '@wangfang @城北营业厅 "引号" \\\\server\\share <b>', "etag-0011")
    edited = await posted(wang, room, "要改的", "etag-0012")
    await wang.http.patch(
        f"/api/v1/messages/{edited['id']}",
        json={"body": "改好了"},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    gone = await posted(zhao, room, "要删的", "etag-0013")
    await zhao.http.delete(
        f"/api/v1/messages/{gone['id']}", headers={"X-CSRF-Token": zhao.csrf_token}
    )
    await posted(wang, room, "最后一条\n第二行\t制表", "etag-0014")
    for username in ("wangfang", "lina", "zhaomin", "chengang"):
        async with services.reading() as unit:
            viewer = await get_user_named(unit, username)
            for options in ({}, {"limit": 2}, {"after": 0, "limit": 3}):
                model = await actions.list_messages(
                    unit, viewer, room, zone=services.site.zone, **options
                )
                plain = await actions.list_messages_json(
                    unit, viewer, room, zone=services.site.zone, **options
                )
                assert to_json(plain) == model.model_dump_json().encode(), (username, options)
    # And over HTTP, byte for byte, for a clerk, another clerk and a manager.
    for username, client in (("wangfang", wang), ("lina", lina), ("zhaomin", zhao)):
        async with services.reading() as unit:
            viewer = await get_user_named(unit, username)
            model = await actions.list_messages(unit, viewer, room, zone=services.site.zone)
        answer = await get(client, messages_path(room))
        assert answer.content.decode() == model.model_dump_json(), username
    answer = await get(wang, messages_path(room))
    shown = answer.json()["messages"]
    assert shown[0]["attachments"][0]["kind"] == "image"
    assert {m["kind"] for m in shown[1]["mentions"]} == {"user", "branch"}
    assert shown[2]["edited_at"] is not None


def api_routes(router: Any) -> set[int]:
    """The ids of the routes under the API router (``app.py``'s ``/api/v1`` router), however
    nested."""
    found: set[int] = set()
    for route in router.routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included router
        if inner is not None:
            found |= api_routes(inner)
        elif isinstance(route, APIRoute):
            found.add(id(route))
    return found


async def test_a_page_request_is_never_compared_with_the_api_routes(
    server, login, cast: Cast, monkeypatch
) -> None:
    """The API router says "no match" at once for a path outside /api/v1 (web/prefixed.py):
    each of its hundred-odd routes cost a page a regular-expression match and more."""
    [api] = [
        route.original_router
        for route in server.app.router.routes
        if getattr(route, "original_router", None) is not None
        and route.original_router.prefix == "/api/v1"
    ]
    under_api = api_routes(api)
    compared: set[int] = set()
    matches = APIRoute.matches

    def recording(route: APIRoute, scope: dict[str, Any]) -> Any:
        compared.add(id(route))
        return matches(route, scope)

    wang = await login("wangfang")
    monkeypatch.setattr(APIRoute, "matches", recording)
    page = await wang.http.get("/search?q=宽带")  # the room page is a quick route's
    assert page.status_code == 200
    assert compared  # the page's own route, at least
    assert not under_api & compared
    # An API request still finds its route there (one the quick routes don't answer).
    compared.clear()
    answer = await get(wang, "/api/v1/unread")
    assert answer.status_code == 200
    assert under_api & compared
