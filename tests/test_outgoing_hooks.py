"""Outgoing webhooks (bots/): an administrator sets trigger words and a callback URL on a
room; a message starting with a trigger word is POSTed to the callback, as Mattermost's
outgoing webhooks send it, by a durable job queued in the post's own transaction; a `text`
in the answer is posted into the room as the hook (or under its `username`). A real HTTP
server on this machine receives the calls and answers."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from counterline.audit.models import AuditEntry
from counterline.bots.tasks import JOB_KIND
from counterline.jobs.models import Job
from counterline.services import Services
from tests.cast import Cast
from tests.support.clients import Client
from tests.support.waiting import wait_for


class Receiver:
    """An HTTP server that records each POST and answers with the next scripted answer
    (status, JSON body), or 200 and ``{}`` when none is left."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.answers: deque[tuple[int, Any]] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.calls.append(json.loads(self.rfile.read(length)))
                receiver.headers.append(dict(self.headers))
                status, body = receiver.answers.popleft() if receiver.answers else (200, {})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/counterline"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def server(start_server):
    return start_server(job_poll_seconds=0.1, job_retry_seconds=0.2)


async def make_hook(
    admin: Client, room_id: int, url: str, words: list[str], name: str = "资费机器人"
) -> dict[str, Any]:
    response = await admin.http.post(
        "/api/v1/admin/outgoing-hooks",
        json={"room_id": room_id, "name": name, "trigger_words": words, "callback_url": url},
        headers={"X-CSRF-Token": admin.csrf_token},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def messages(client: Client, room_id: int) -> list[dict[str, Any]]:
    response = await client.http.get(f"/api/v1/rooms/{room_id}/messages")
    assert response.status_code == 200, response.text
    return response.json()["messages"]


async def shown(client: Client, room_id: int) -> list[tuple[str, str]]:
    return [(m["author"]["display_name"], m["body"]) for m in await messages(client, room_id)]


async def test_a_trigger_word_calls_the_url_as_mattermost_does_and_the_answer_is_posted(
    login, receiver: Receiver, cast: Cast
) -> None:
    admin = await login("chengang")
    room_id = cast.branch_room_ids["城北营业厅"]
    hook = await make_hook(admin, room_id, receiver.url, ["资费", "#查询"])
    assert "token" in hook and hook["trigger_words"] == ["资费", "#查询"]
    receiver.answers.append((200, {"text": "套餐资费见门户。"}))
    clerk = await login("wangfang")
    await clerk.post_message(room_id, "请问资费", str(uuid.uuid4()))  # not at the start
    posted = await clerk.post_message(room_id, "资费?", str(uuid.uuid4()))
    assert posted.status_code == 201, posted.text

    async def answered() -> bool:
        return ("资费机器人", "套餐资费见门户。") in await shown(clerk, room_id)

    await wait_for(answered, 10, "the hook's answer")
    [call] = receiver.calls
    message = posted.json()
    assert call == {
        "token": hook["token"],
        "team_id": "",
        "team_domain": "",
        "channel_id": str(room_id),
        "channel_name": "城北营业厅",
        "timestamp": call["timestamp"],
        "user_id": str(clerk.user["id"]),
        "user_name": "wangfang",
        "post_id": str(message["id"]),
        "text": "资费?",
        "trigger_word": "资费",
        "file_ids": "",
    }
    assert isinstance(call["timestamp"], int) and call["timestamp"] > 1_700_000_000_000
    assert receiver.headers[0]["Content-Type"] == "application/json"


async def test_an_answer_may_name_its_author_and_never_triggers_a_hook_itself(
    login, receiver: Receiver, cast: Cast
) -> None:
    admin = await login("chengang")
    room_id = cast.branch_room_ids["城北营业厅"]
    await make_hook(admin, room_id, receiver.url, ["资费"])
    receiver.answers.append((200, {"text": "资费一览：见门户", "username": "小资"}))
    clerk = await login("wangfang")
    await clerk.post_message(room_id, "资费 5G 套餐", str(uuid.uuid4()))

    async def answered() -> bool:
        return ("小资", "资费一览：见门户") in await shown(clerk, room_id)

    await wait_for(answered, 10, "the answer under its own name")
    await asyncio.sleep(1)  # the answer starts with a trigger word: still no call for it
    assert len(receiver.calls) == 1


async def test_a_failed_call_is_retried_and_a_successful_one_is_made_once(
    login, receiver: Receiver, cast: Cast, services: Services
) -> None:
    admin = await login("chengang")
    room_id = cast.branch_room_ids["城北营业厅"]
    await make_hook(admin, room_id, receiver.url, ["资费"])
    receiver.answers.extend([(500, {"text": "坏了"}), (200, {"text": "第二次才答"})])
    clerk = await login("wangfang")
    await clerk.post_message(room_id, "资费?", str(uuid.uuid4()))

    async def answered() -> bool:
        return ("资费机器人", "第二次才答") in await shown(clerk, room_id)

    await wait_for(answered, 15, "the answer after a retry")
    await asyncio.sleep(1.5)  # several polls and retry delays later
    assert len(receiver.calls) == 2
    assert (
        receiver.headers[0]["X-Counterline-Delivery"]
        == receiver.headers[1]["X-Counterline-Delivery"]
    )
    assert [body for _, body in await shown(clerk, room_id)].count("第二次才答") == 1
    assert "坏了" not in [body for _, body in await shown(clerk, room_id)]


async def test_a_revoked_hook_calls_nobody_and_both_changes_are_audited(
    login, receiver: Receiver, cast: Cast, services: Services
) -> None:
    admin = await login("chengang")
    room_id = cast.branch_room_ids["城北营业厅"]
    hook = await make_hook(admin, room_id, receiver.url, ["资费"])
    listed = (await admin.http.get("/api/v1/admin/outgoing-hooks")).json()["hooks"]
    assert [h["id"] for h in listed] == [hook["id"]] and "token" not in listed[0]
    revoked = await admin.http.delete(
        f"/api/v1/admin/outgoing-hooks/{hook['id']}", headers={"X-CSRF-Token": admin.csrf_token}
    )
    assert revoked.status_code == 204
    assert (await admin.http.get("/api/v1/admin/outgoing-hooks")).json()["hooks"] == []
    clerk = await login("wangfang")
    await clerk.post_message(room_id, "资费?", str(uuid.uuid4()))
    await asyncio.sleep(1)
    assert receiver.calls == []
    async with services.reading() as unit:
        entries = list(
            await unit.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.like("outgoing_hook.%"))
                .order_by(AuditEntry.id)
            )
        )
    assert [e.action for e in entries] == ["outgoing_hook.created", "outgoing_hook.revoked"]
    assert entries[0].details["callback_url"] == receiver.url
    assert all(e.actor_id == admin.user["id"] for e in entries)


async def test_bad_hook_settings_get_their_4xx(login, cast: Cast) -> None:
    admin = await login("chengang")
    room_id = cast.branch_room_ids["城北营业厅"]
    headers = {"X-CSRF-Token": admin.csrf_token, "Accept-Language": "en"}
    good = {"room_id": room_id, "name": "x", "trigger_words": ["a"], "callback_url": "http://h/"}
    for change, status in [
        ({"callback_url": "ftp://host/x"}, 400),
        ({"callback_url": "http://"}, 400),
        ({"callback_url": "http://[::1"}, 400),
        ({"callback_url": "http://h:99999/"}, 400),
        ({"trigger_words": []}, 422),
        ({"trigger_words": [" "]}, 400),
        ({"trigger_words": ["x" * 51]}, 400),
        ({"room_id": 999999}, 404),
        ({"room_id": "1"}, 422),
        ({"name": ""}, 400),
    ]:
        response = await admin.http.post(
            "/api/v1/admin/outgoing-hooks", json={**good, **change}, headers=headers
        )
        assert response.status_code == status, (change, response.text)
        assert response.json()["error"]
    assert (await admin.http.get("/api/v1/admin/outgoing-hooks")).json()["hooks"] == []


async def test_the_call_is_queued_as_a_durable_job_in_the_posts_own_transaction(
    start_server, sign_in, receiver: Receiver, cast: Cast, services: Services
) -> None:
    idle = start_server(job_poll_seconds=3600)  # its runner never gets to the job
    admin = await sign_in(idle, "chengang")
    room_id = cast.branch_room_ids["城北营业厅"]
    hook = await make_hook(admin, room_id, receiver.url, ["资费"])
    clerk = await sign_in(idle, "wangfang")
    posted = await clerk.post_message(room_id, "资费?", str(uuid.uuid4()))
    assert posted.status_code == 201
    await clerk.post_message(room_id, "你好", str(uuid.uuid4()))
    async with services.reading() as unit:
        jobs = list(await unit.session.scalars(select(Job).where(Job.kind == JOB_KIND)))
    [job] = jobs  # there when the post was acknowledged; none for "你好"
    assert job.state == "queued" and receiver.calls == []
    assert job.payload["hook_id"] == hook["id"]
    assert job.payload["post"]["id"] == posted.json()["id"]
    assert job.payload["trigger_word"] == "资费"
