"""Editing and deleting messages on the record: the window, who may, the history managers
see, tombstones, the live events, the audit trail (messages/editing.py), against the live
server."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from counterline.accounts.actions import get_branch_named, get_user_named
from counterline.audit.models import AuditEntry
from counterline.db import utcnow
from counterline.messages.models import Message, MessageRevision
from counterline.messages.queries import list_after_anywhere
from counterline.people.actions import move_user
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client, message_ids, open_stream, post
from tests.support.waiting import frames_until_pong, frames_until_ready

IP = "127.0.0.1"


async def edit(client: Client, message_id: int, body: str) -> httpx.Response:
    return await client.http.patch(
        f"/api/v1/messages/{message_id}",
        json={"body": body},
        headers={"X-CSRF-Token": client.csrf_token},
    )


async def delete(client: Client, message_id: int) -> httpx.Response:
    return await client.http.delete(
        f"/api/v1/messages/{message_id}", headers={"X-CSRF-Token": client.csrf_token}
    )


async def history(client: Client, message_id: int) -> httpx.Response:
    return await client.http.get(f"/api/v1/messages/{message_id}/history")


async def page(client: Client, room_id: int, **options: Any) -> list[dict[str, Any]]:
    response = await client.http.get(f"/api/v1/rooms/{room_id}/messages", params=options)
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def revisions(services: Services, message_id: int) -> list[MessageRevision]:
    async with services.reading() as unit:
        query = (
            select(MessageRevision)
            .where(MessageRevision.message_id == message_id)
            .order_by(MessageRevision.id)
        )
        return list(await unit.session.scalars(query))


async def posted_ago(services: Services, message_id: int, age: timedelta) -> None:
    """Move a message's posting time back by ``age``."""
    async with services.transaction() as unit:
        query = select(Message.created_at).where(Message.id == message_id)
        posted = await unit.session.scalar(query)
        assert posted is not None
        await unit.session.execute(
            update(Message).where(Message.id == message_id).values(created_at=posted - age)
        )


async def test_author_edits_within_the_window_and_everyone_sees_the_edit(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    message_id = await post(wang, cast.company_room_id, "**旧的**通知", "edit-0001")
    before = utcnow()
    response = await edit(wang, message_id, "*新的*通知")
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["id"] == message_id
    assert edited["body"] == "*新的*通知"
    assert edited["html"] == edited["body_html"]
    assert "<em>新的</em>" in edited["html"] and "strong" not in edited["html"]
    assert before <= parse_time(edited["edited_at"]) <= utcnow()
    assert edited["client_id"] == "edit-0001"  # her own message
    assert edited["client_ip"] is None and edited["deleted_at"] is None  # she is a clerk
    [seen] = [m for m in await page(li, cast.company_room_id) if m["id"] == message_id]
    assert seen["body"] == "*新的*通知" and seen["html"] == edited["html"]
    assert seen["edited_at"] == edited["edited_at"]
    assert seen["client_id"] is None
    [revision] = await revisions(services, message_id)
    assert (revision.action, revision.body, revision.editor_id, revision.editor_ip) == (
        "edited",
        "**旧的**通知",
        cast["wangfang"].id,
        IP,
    )
    assert "<strong>旧的</strong>" in revision.body_html


async def test_a_message_not_edited_has_no_edit_mark(login, cast: Cast) -> None:
    wang = await login("wangfang")
    response = await wang.post_message(cast.company_room_id, "没改过", "edit-plain-1")
    assert response.json()["edited_at"] is None
    assert response.json()["html"] == response.json()["body_html"]


async def test_the_same_text_again_is_answered_without_a_new_revision(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    message_id = await post(wang, cast.company_room_id, "原样", "edit-same-1")
    response = await edit(wang, message_id, "原样\r\n".rstrip())
    assert response.status_code == 200, response.text
    assert response.json()["edited_at"] is None
    assert response.json()["body"] == "原样"
    assert await revisions(services, message_id) == []
    assert await audited(services, message_id) == []


async def test_an_edit_is_checked_like_a_post(login, cast: Cast) -> None:
    wang = await login("wangfang")
    message_id = await post(wang, cast.company_room_id, "要改的", "edit-check-1")
    assert (await edit(wang, message_id, "   ")).status_code == 400
    assert (await edit(wang, message_id, "长" * 10_001)).status_code == 400
    [message] = [m for m in await page(wang, cast.company_room_id) if m["id"] == message_id]
    assert message["body"] == "要改的" and message["edited_at"] is None


async def test_past_the_window_the_author_is_refused_but_an_admin_is_not(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    chen = await login("chengang")
    message_id = await post(wang, cast.company_room_id, "很久以前", "edit-late-1")
    await posted_ago(services, message_id, timedelta(minutes=14))
    assert (await edit(wang, message_id, "还来得及")).status_code == 200
    await posted_ago(services, message_id, timedelta(minutes=2))
    refused = await edit(wang, message_id, "太晚了")
    assert refused.status_code == 403
    # The cast speaks the server's default language, Chinese.
    assert refused.json()["error"] == "消息只能在发送后 15 分钟内编辑。"
    refused = await delete(wang, message_id)
    assert refused.status_code == 403
    assert refused.json()["error"] == "消息只能在发送后 15 分钟内删除。"
    await posted_ago(services, message_id, timedelta(days=400))
    by_admin = await edit(chen, message_id, "管理员改的")
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["body"] == "管理员改的"
    assert by_admin.json()["client_ip"] == IP  # an admin is staff
    assert by_admin.json()["client_id"] is None  # not his message
    assert (await delete(chen, message_id)).status_code == 204


async def test_the_window_is_the_configured_one(start_server, sign_in, cast: Cast) -> None:
    server = start_server(message_edit_minutes=0.001)  # 60 ms
    wang = await sign_in(server, "wangfang")
    message_id = await post(wang, cast.company_room_id, "手慢了", "edit-tiny-1")
    await asyncio.sleep(0.2)
    refused = await edit(wang, message_id, "还能改吗")
    assert refused.status_code == 403
    assert refused.json()["error"] == "消息只能在发送后 0.001 分钟内编辑。"


async def test_no_one_else_may_edit_or_delete_a_clerks_message(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    message_id = await post(wang, cast.company_room_id, "我的消息", "edit-other-1")
    for username in ("lina", "zhangwei", "zhaomin"):  # a clerk, a trainer, a manager
        other = await login(username)
        refused = await edit(other, message_id, "别人改的")
        assert refused.status_code == 403, username
        assert refused.json()["error"] == "您只能编辑自己的消息。"
        refused = await delete(other, message_id)
        assert refused.status_code == 403, username
        assert refused.json()["error"] == "您只能删除自己的消息。"
    [message] = [m for m in await page(wang, cast.company_room_id) if m["id"] == message_id]
    assert message["body"] == "我的消息" and message["edited_at"] is None
    assert await revisions(services, message_id) == []


async def test_no_such_message_and_rooms_one_is_not_in_are_404(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    chen = await login("chengang")
    zhao = await login("zhaomin")
    in_branch = await post(wang, cast.branch_room_ids[CHENGBEI], "城北内部", "edit-left-1")
    # The admin is not in the Chengbei branch room: he cannot change what he cannot read.
    assert (await edit(chen, in_branch, "管理员")).status_code == 404
    assert (await delete(chen, in_branch)).status_code == 404
    assert (await history(chen, in_branch)).status_code == 404
    assert (await history(zhao, in_branch)).status_code == 200
    async with services.transaction() as unit:
        user = await get_user_named(unit, "wangfang")
        await move_user(unit, user, await get_branch_named(unit, HUAQIAO), actor_id=None)
    for refused in (await edit(wang, in_branch, "走了以后"), await delete(wang, in_branch)):
        assert refused.status_code == 404
        assert refused.json()["error"] == "消息不存在，或您不是其所在房间的成员。"
    assert (await edit(wang, 987_654, "没有这条")).status_code == 404
    assert (await delete(wang, 987_654)).status_code == 404
    assert (await history(zhao, 987_654)).status_code == 404
    assert await revisions(services, in_branch) == []


async def test_history_shows_every_version_with_editor_time_and_address_to_staff_only(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    chen = await login("chengang")
    zhao = await login("zhaomin")
    message_id = await post(wang, cast.company_room_id, "第一版", "edit-hist-1")
    assert (await edit(wang, message_id, "第二版")).status_code == 200
    assert (await edit(chen, message_id, "**第三版**")).status_code == 200
    assert (await delete(wang, message_id)).status_code == 204
    for username in ("wangfang", "lina", "zhangwei"):
        refused = await history(await login(username), message_id)
        assert refused.status_code == 403, username
        assert refused.json()["error"] == "只有经理和管理员可以查看消息的修改记录。"
    response = await history(zhao, message_id)
    assert response.status_code == 200, response.text
    assert response.json()["message_id"] == message_id
    versions = response.json()["versions"]
    assert [(v["action"], v["body"], v["editor"]["username"]) for v in versions] == [
        ("posted", "第一版", "wangfang"),
        ("edited", "第二版", "wangfang"),
        ("edited", "**第三版**", "chengang"),
        ("deleted", "**第三版**", "wangfang"),
    ]
    assert versions[2]["html"] == "<p><strong>第三版</strong></p>\n" or (
        "<strong>第三版</strong>" in versions[2]["html"]
    )
    assert versions[0]["editor"] == {
        "id": cast["wangfang"].id,
        "username": "wangfang",
        "display_name": "王芳",
    }
    assert all(v["client_ip"] == IP for v in versions)
    times = [parse_time(v["created_at"]) for v in versions]
    assert times == sorted(times)
    assert (await history(chen, message_id)).json() == response.json()


async def test_a_deleted_message_is_gone_for_clerks_and_a_tombstone_for_staff(
    login, server, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    zhao = await login("zhaomin")
    room = cast.company_room_id
    first = await post(wang, room, "第一条", "edit-del-01")
    doomed = await post(wang, room, "要删的", "edit-del-02")
    last = await post(wang, room, "第三条", "edit-del-03")
    assert (await delete(wang, doomed)).status_code == 204
    today = utcnow().date().isoformat()
    for clerk in (wang, li):
        for options in ({}, {"after": first - 1}, {"before": last + 1}, {"day": today}):
            ids = [m["id"] for m in await page(clerk, room, **options)]
            assert first in ids and last in ids and doomed not in ids, options
    for options in ({}, {"after": first - 1}, {"before": last + 1}, {"day": today}):
        [tombstone] = [m for m in await page(zhao, room, **options) if m["id"] == doomed]
        assert tombstone["deleted_at"] is not None, options
        assert tombstone["body"] == "要删的" and tombstone["client_ip"] == IP
    # Already deleted: nothing more to do to it.
    assert (await delete(wang, doomed)).status_code == 404
    assert (await edit(wang, doomed, "复活")).status_code == 404
    # A retry of its post does not bring it back.
    retry = await wang.post_message(room, "要删的", "edit-del-02")
    assert retry.status_code == 409
    assert retry.json()["error"] == "该消息已被删除。"

    # Catch-up on reconnect follows the same rule.
    since = first - 1
    clerk = await open_stream(server.ws_url, cookie=li.session_cookie, last_message_id=since)
    manager = await open_stream(server.ws_url, cookie=zhao.session_cookie, last_message_id=since)
    try:
        to_clerk, clerk_ready = await frames_until_ready(clerk)
        to_manager, _ = await frames_until_ready(manager)
    finally:
        await clerk.close()
        await manager.close()
    assert message_ids(to_clerk) == [first, last]
    assert clerk_ready["last_message_id"] == last
    assert message_ids(to_manager) == [first, doomed, last]
    [replayed] = [f["message"] for f in to_manager if f["message"]["id"] == doomed]
    assert replayed["deleted_at"] is not None and replayed["body"] == "要删的"
    assert all("deleted_at" not in f["message"] for f in to_clerk)


async def test_edits_and_deletes_reach_other_tabs_live_with_each_audience_s_frame(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    zhao = await login("zhaomin")
    room = cast.company_room_id
    old = await post(wang, room, "早先的消息", "edit-live-01")
    newest = await post(wang, room, "最新的消息", "edit-live-02")
    # The tabs caught up through ``newest``: an event about an older message must still
    # reach them (it carries no message id the catch-up would make them skip).
    own_tab = await open_stream(server.ws_url, cookie=wang.session_cookie, last_message_id=newest)
    clerk = await open_stream(server.ws_url, cookie=li.session_cookie, last_message_id=newest)
    manager = await open_stream(server.ws_url, cookie=zhao.session_cookie, last_message_id=newest)
    tabs = (own_tab, clerk, manager)
    try:
        for tab in tabs:
            await frames_until_ready(tab)
        assert (await edit(wang, old, "改过的消息")).status_code == 200
        edited = [await tab.next("message.edited") for tab in tabs]
        assert (await delete(wang, old)).status_code == 204
        deleted = [await tab.next("message.deleted") for tab in tabs]
        after = await post(wang, room, "之后的消息", "edit-live-03")
        posted_after = [await tab.next("message.posted") for tab in tabs]
        rest = [await frames_until_pong(tab) for tab in tabs]
    finally:
        for tab in tabs:
            await tab.close()
    for frame in edited:
        assert frame["stream"] == f"room:{room}"
        assert frame["message"]["id"] == old
        assert frame["message"]["body"] == "改过的消息"
        assert frame["message"]["html"] == frame["message"]["body_html"]
        assert frame["message"]["edited_at"] is not None
        assert "client_id" not in frame["message"]  # not even to the author's tabs
    own, to_clerk, to_manager = edited
    assert own == to_clerk
    assert "client_ip" not in to_clerk["message"] and "deleted_at" not in to_clerk["message"]
    assert to_manager["message"]["client_ip"] == IP
    assert to_manager["message"]["deleted_at"] is None
    own, to_clerk, to_manager = deleted
    assert (
        own
        == to_clerk
        == {
            "type": "message.deleted",
            "stream": f"room:{room}",
            "room_id": room,
            "message_id": old,
        }
    )
    assert {k: v for k, v in to_manager.items() if k != "message"} == to_clerk
    assert to_manager["message"]["id"] == old
    assert to_manager["message"]["deleted_at"] is not None
    assert to_manager["message"]["body"] == "改过的消息"
    assert to_manager["message"]["client_ip"] == IP
    assert [frame["message"]["id"] for frame in posted_after] == [after] * 3
    for frames in rest:  # each event once
        assert not [f for f in frames if f["type"].startswith("message.")]


async def test_room_page_tells_the_browser_the_window_and_the_viewer_s_abilities(
    login, cast: Cast
) -> None:
    for username, any_message, sees_history in (
        ("wangfang", False, False),
        ("zhaomin", False, True),
        ("chengang", True, True),
    ):
        client = await login(username)
        html = (await client.http.get(f"/rooms/{cast.company_room_id}")).text
        found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', html, re.S)
        assert found, html[:300]
        boot = json.loads(found.group(1))
        assert boot["edit_window_seconds"] == 15 * 60
        assert boot["edits_any_message"] is any_message, username
        assert boot["sees_message_history"] is sees_history, username
        [message] = boot["page"]["messages"][-1:] or [None]
        assert message is None or "html" in message


async def audited(services: Services, message_id: int) -> list[AuditEntry]:
    async with services.reading() as unit:
        query = (
            select(AuditEntry)
            .where(AuditEntry.target == f"message:{message_id}")
            .order_by(AuditEntry.id)
        )
        return list(await unit.session.scalars(query))


async def test_each_edit_and_delete_is_audited(login, services: Services, cast: Cast) -> None:
    wang = await login("wangfang")
    chen = await login("chengang")
    message_id = await post(wang, cast.company_room_id, "审计", "edit-audit-1")
    assert (await edit(wang, message_id, "审计二")).status_code == 200
    assert (await delete(chen, message_id)).status_code == 204
    entries = await audited(services, message_id)
    assert [(e.action, e.actor_id, e.client_ip) for e in entries] == [
        ("message.edit", cast["wangfang"].id, IP),
        ("message.delete", cast["chengang"].id, IP),
    ]
    assert entries[0].details["room_id"] == cast.company_room_id
    assert entries[1].details["author_id"] == cast["wangfang"].id
    [_, deletion] = await revisions(services, message_id)
    assert deletion.action == "deleted" and deletion.editor_id == cast["chengang"].id
    assert entries[1].details["revision_id"] == deletion.id


async def test_concurrent_edits_of_one_message_each_keep_a_revision(
    login, services: Services, cast: Cast
) -> None:
    wang = await login("wangfang")
    chen = await login("chengang")
    message_id = await post(wang, cast.company_room_id, "原文", "edit-race-01")
    bodies = [f"版本{n}" for n in range(6)]
    answers = await asyncio.gather(
        *(edit(wang if n % 2 else chen, message_id, body) for n, body in enumerate(bodies))
    )
    assert [answer.status_code for answer in answers] == [200] * len(bodies)
    kept = await revisions(services, message_id)
    assert len(kept) == len(bodies)
    # Each revision holds the text the one before it left: a chain with nothing lost.
    befores = [revision.body for revision in kept]
    assert befores[0] == "原文"
    assert sorted(befores[1:]) == sorted(set(befores[1:]))
    async with services.reading() as unit:
        current = await unit.session.scalar(select(Message.body).where(Message.id == message_id))
    assert sorted([*befores[1:], current]) == sorted(bodies)


async def test_the_live_update_fallback_never_republishes_a_deleted_message(
    login, services: Services, cast: Cast
) -> None:
    """During a Redis outage the poller republishes new messages as message.posted to every
    member (services._messages_since): a deleted one must not come back that way."""
    wang = await login("wangfang")
    kept = await post(wang, cast.company_room_id, "留着的", "edit-poll-01")
    doomed = await post(wang, cast.company_room_id, "删掉的", "edit-poll-02")
    assert (await delete(wang, doomed)).status_code == 204
    async with services.reading() as unit:
        rows = await list_after_anywhere(unit.session, kept - 1, limit=10)
    assert [row.id for row in rows] == [kept]


async def test_an_edit_keeps_the_attachments_and_may_leave_only_them(
    login, server, cast: Cast
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    sent = await wang.http.post(
        "/api/v1/uploads",
        files={"file": ("notes.txt", "营业时间调整\n".encode(), "text/plain")},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert sent.status_code == 201, sent.text
    posted = await wang.http.post(
        f"/api/v1/rooms/{cast.company_room_id}/messages",
        json={"body": "见附件", "client_id": "edit-file-01", "attachments": [sent.json()["id"]]},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert posted.status_code == 201, posted.text
    message_id, attached = posted.json()["id"], posted.json()["attachments"]
    assert attached
    tab = await open_stream(server.ws_url, cookie=li.session_cookie)
    try:
        await tab.next("ready")
        response = await edit(wang, message_id, "")  # only the file now
        frame = await tab.next("message.edited")
    finally:
        await tab.close()
    assert response.status_code == 200, response.text
    assert response.json()["body"] == "" and response.json()["attachments"] == attached
    assert frame["message"]["attachments"] == attached
    [seen] = [m for m in await page(li, cast.company_room_id) if m["id"] == message_id]
    assert seen["attachments"] == attached and seen["edited_at"] is not None
    without = await post(wang, cast.company_room_id, "没有附件", "edit-file-02")
    assert (await edit(wang, without, " ")).status_code == 400


async def test_an_edit_resolves_mentions_as_posting_does(login, cast: Cast) -> None:
    wang = await login("wangfang")
    message_id = await post(wang, cast.company_room_id, "请 @lina 看一下", "edit-mention-1")
    response = await edit(wang, message_id, "请 @李娜 和 @zhangwei 看一下")
    assert response.status_code == 200, response.text
    edited = response.json()
    assert [mention["name"] for mention in edited["mentions"]] == ["lina", "zhangwei"]
    assert 'data-mention="lina"' in edited["html"]
    assert 'data-mention="zhangwei"' in edited["html"]
