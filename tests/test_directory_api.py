"""The staff directory, GET /api/v1/users: what room pages ask for once per load instead of
carrying it. Every logged-in user gets the same list, with a validator (ETag) so an
unchanged directory costs a 304; a change of an account or of who is online changes it at
once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from counterline.accounts.cache import DirectoryCache
from counterline.accounts.schemas import UserList
from counterline.app import create_app
from counterline.conditional import etag_of
from counterline.config import Settings
from tests.cast import PEOPLE, Cast
from tests.support.clients import Client, open_stream
from tests.support.waiting import presence_of

USERS = "/api/v1/users"
FIELDS = {
    "id",
    "username",
    "display_name",
    "role",
    "branch_id",
    "branch_name",
    "online",
    "last_seen_at",
    "pinyin",
    "initials",
}


async def directory(client: Client, etag: str | None = None) -> httpx.Response:
    return await client.http.get(USERS, headers={"If-None-Match": etag} if etag else {})


def entry(response: httpx.Response, username: str) -> dict[str, Any]:
    [found] = [user for user in response.json()["users"] if user["username"] == username]
    return found


async def test_the_directory_lists_every_active_user_with_pinyin_and_a_validator(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    answer = await directory(wang)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "private, no-cache"
    assert answer.headers["vary"] == "Cookie, Authorization"
    assert answer.headers["etag"] == etag_of(answer.content)
    users = answer.json()["users"]
    assert sorted(user["username"] for user in users) == sorted(p.username for p in PEOPLE)
    assert all(set(user) == FIELDS for user in users)
    assert entry(answer, "wangfang") == {
        "id": cast["wangfang"].id,
        "username": "wangfang",
        "display_name": "王芳",
        "role": "clerk",
        "branch_id": cast.branch_ids["城北营业厅"],
        "branch_name": "城北营业厅",
        "online": False,
        "last_seen_at": None,
        "pinyin": "wangfang",
        "initials": "wf",
    }


async def test_an_unchanged_directory_is_answered_304_with_no_body(login) -> None:
    wang = await login("wangfang")
    etag = (await directory(wang)).headers["etag"]
    again = await directory(wang, etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "private, no-cache"


async def test_every_role_and_an_api_token_get_the_same_directory(login) -> None:
    clients = [await login(name) for name in ("wangfang", "zhangwei", "zhaomin", "chengang")]
    answers = [await directory(client) for client in clients]
    made = await clients[0].http.post(
        "/api/v1/account/tokens",
        json={"label": "通讯录"},
        headers={"X-CSRF-Token": clients[0].csrf_token},
    )
    assert made.status_code == 201, made.text
    async with httpx.AsyncClient(base_url=str(clients[0].http.base_url)) as bare:
        by_token = await bare.get(
            USERS, headers={"Authorization": f"Bearer {made.json()['token']}"}
        )
    assert by_token.status_code == 200
    assert {answer.content for answer in [*answers, by_token]} == {answers[0].content}
    assert {answer.headers["etag"] for answer in [*answers, by_token]} == {
        answers[0].headers["etag"]
    }


async def test_logged_out_the_directory_is_refused_with_401_and_no_validator(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        refused = await anonymous.get(USERS)
    assert refused.status_code == 401
    assert "etag" not in refused.headers
    assert "users" not in refused.json()


async def test_a_renamed_user_shows_at_once_with_a_new_validator(login, cast: Cast) -> None:
    wang, admin = await login("wangfang"), await login("chengang")
    etag = (await directory(wang)).headers["etag"]
    renamed = await admin.http.patch(
        f"/api/v1/admin/users/{cast['lina'].id}",
        json={"display_name": "李娜娜"},
        headers={"X-CSRF-Token": admin.csrf_token},
    )
    assert renamed.status_code == 200, renamed.text
    after = await directory(wang, etag)
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert entry(after, "lina")["display_name"] == "李娜娜"
    assert (entry(after, "lina")["pinyin"], entry(after, "lina")["initials"]) == ("linana", "lnn")


async def test_coming_online_shows_at_once_in_the_shape_the_user_model_gives(
    login, server, cast: Cast
) -> None:
    li, wang = await login("lina"), await login("wangfang")
    etag = (await directory(li)).headers["etag"]
    watcher = await open_stream(server.ws_url, cookie=li.session_cookie)
    tab = await open_stream(server.ws_url, cookie=wang.session_cookie)
    try:
        await watcher.next("ready")
        await presence_of(watcher, cast["wangfang"].id)
        after = await directory(li, etag)
    finally:
        await tab.close()
        await watcher.close()
    assert after.status_code == 200
    assert entry(after, "wangfang")["online"] is True
    assert entry(after, "wangfang")["last_seen_at"] is not None
    # Built from rows, not models: the very bytes UserList would answer.
    assert UserList.model_validate_json(after.content).model_dump_json().encode() == after.content


def test_a_copy_read_across_a_change_is_answered_but_not_kept() -> None:
    cache = DirectoryCache()
    generation = cache.generation
    cache.forget()  # a change lands while the copy is being read
    stale = cache.put(b'{"users":[]}', generation)
    assert stale == (b'{"users":[]}', etag_of(b'{"users":[]}'))
    assert cache.get() is None
    fresh = cache.put(b'{"users":[1]}', cache.generation)
    assert cache.get() == fresh


def test_a_kept_copy_expires_after_its_time() -> None:
    cache = DirectoryCache(ttl_seconds=0)
    cache.put(b'{"users":[]}', cache.generation)
    assert cache.get() is None


def test_the_schema_documents_the_directory_with_pinyin_and_its_refusals(
    make_settings: Callable[..., Settings],
) -> None:
    schema = create_app(make_settings()).openapi()
    operation = schema["paths"]["/api/v1/users"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "403"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/UserList"}
    person = schema["components"]["schemas"]["DirectoryUserOut"]
    assert {"pinyin", "initials"} <= set(person["required"])


async def test_the_room_page_no_longer_carries_the_directory(login, cast: Cast) -> None:
    wang = await login("wangfang")
    page = await wang.http.get(f"/rooms/{cast.company_room_id}")
    assert page.status_code == 200
    assert 'id="directory"' not in page.text
    assert '"initials"' not in page.text
