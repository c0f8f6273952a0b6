"""The inbox ("For me") at the API: direct messages and mentions of the reader, her branch,
her role or everyone, newest first, with reasons and unread marks; never a message of a room
she is not in. And the notification settings: level, sound, per-room mute."""

from __future__ import annotations

import json
import re
from typing import Any

from counterline.accounts.actions import get_branch_named, get_user_named
from counterline.inbox.queries import COUNT_CAP
from counterline.messages.mentions import Reason
from counterline.messages.models import Message, MessageAddressee
from counterline.people.actions import move_user
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client, post

INBOX = "/api/v1/inbox"


async def inbox(client: Client, **params: Any) -> dict[str, Any]:
    response = await client.http.get(INBOX, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def summary(page: dict[str, Any]) -> list[tuple[int, int, list[str], bool]]:
    return [
        (item["message"]["id"], item["room"]["id"], item["reasons"], item["unread"])
        for item in page["items"]
    ]


async def start_conversation(client: Client, *usernames: str) -> int:
    response = await client.http.post(
        "/api/v1/conversations",
        json={"members": list(usernames)},
        headers={"X-CSRF-Token": client.csrf_token},
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


async def mark_read(client: Client, room_id: int, message_id: int) -> None:
    response = await client.http.post(
        f"/api/v1/rooms/{room_id}/read",
        json={"up_to": message_id},
        headers={"X-CSRF-Token": client.csrf_token},
    )
    assert response.status_code == 200, response.text


async def test_a_dm_and_a_mention_of_her_branch_wait_for_her_newest_first(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    await wang.http.delete("/api/v1/session", headers={"X-CSRF-Token": wang.csrf_token})
    zhang = await login("zhangwei")
    dm = await start_conversation(zhang, "wangfang")
    direct = await post(zhang, dm, "王芳，明天的培训材料发你了", "inbox-dm-0001")
    branch = await post(
        zhang, cast.company_room_id, f"@{CHENGBEI} 请今天下班前确认排班", "inbox-br-0001"
    )
    await post(zhang, cast.company_room_id, "与你无关的消息", "inbox-no-0001")
    wang = await login("wangfang")
    page = await inbox(wang)
    assert summary(page) == [
        (branch, cast.company_room_id, ["branch"], True),
        (direct, dm, ["direct"], True),
    ]
    assert page["has_more"] is False and page["next_before"] is None
    dm_item = page["items"][1]
    assert dm_item["room"] == {"id": dm, "name": "张伟", "kind": "conversation"}
    assert dm_item["message"]["body"] == "王芳，明天的培训材料发你了"
    assert page["items"][0]["message"]["mentions"] == [
        {"kind": "branch", "id": cast.branch_ids[CHENGBEI], "name": CHENGBEI}
    ]
    assert (await wang.http.get(f"{INBOX}/count")).json() == {"unread": 2}
    # The author's own inbox holds neither; zhaomin (城北, not in the DM) only the mention.
    assert (await inbox(zhang))["items"] == []
    zhao = await login("zhaomin")
    assert [item["message"]["id"] for item in (await inbox(zhao))["items"]] == [branch]


async def test_unread_filter_and_paging(login, cast: Cast) -> None:
    zhang = await login("zhangwei")
    dm = await start_conversation(zhang, "wangfang")
    ids = [await post(zhang, dm, f"第{n}条", f"inbox-page-{n:04}") for n in range(5)]
    wang = await login("wangfang")
    await mark_read(wang, dm, ids[1])
    unread = await inbox(wang, unread="true")
    assert [item["message"]["id"] for item in unread["items"]] == ids[:1:-1]
    assert all(item["unread"] for item in unread["items"])
    assert (await wang.http.get(f"{INBOX}/count")).json() == {"unread": 3}
    first = await inbox(wang, limit=2)
    assert [item["message"]["id"] for item in first["items"]] == [ids[4], ids[3]]
    assert first["has_more"] is True and first["next_before"] == ids[3]
    rest = await inbox(wang, limit=2, before=first["next_before"])
    assert [item["message"]["id"] for item in rest["items"]] == [ids[2], ids[1]]
    last = await inbox(wang, limit=2, before=rest["next_before"])
    assert [(i["message"]["id"], i["unread"]) for i in last["items"]] == [(ids[0], False)]
    assert last["has_more"] is False


async def test_the_badge_counts_up_to_a_hundred(login, services: Services, cast: Cast) -> None:
    wang = await login("wangfang")
    async with services.transaction() as unit:
        for n in range(COUNT_CAP + 5):
            message = Message(
                room_id=cast.company_room_id,
                author_id=cast["zhangwei"].id,
                author_branch_id=cast.branch_ids["总部"],
                client_id=f"badge-{n:05}",
                client_ip="10.0.0.1",
                body="@all",
                body_html="<p>@all</p>",
            )
            unit.session.add(message)
            await unit.session.flush()
            unit.session.add(
                MessageAddressee(
                    user_id=cast["wangfang"].id,
                    message_id=message.id,
                    room_id=cast.company_room_id,
                    reasons=int(Reason.all),
                )
            )
    assert COUNT_CAP == 100
    assert (await wang.http.get(f"{INBOX}/count")).json() == {"unread": 100}
    assert len((await inbox(wang, limit=100))["items"]) == 100


async def test_mentions_of_her_by_name_role_and_all_have_their_reasons(login, cast: Cast) -> None:
    zhao = await login("zhaomin")
    both = await post(zhao, cast.branch_room_ids[CHENGBEI], "@王芳 @柜员 看一下", "inbox-re-0001")
    everyone = await post(zhao, cast.company_room_id, "@所有人 注意安全", "inbox-re-0002")
    code = await post(zhao, cast.company_room_id, "`@wangfang` 不算", "inbox-re-0003")
    wang = await login("wangfang")
    items = (await inbox(wang))["items"]
    assert [(i["message"]["id"], i["reasons"]) for i in items] == [
        (everyone, ["all"]),
        (both, ["mention", "role"]),
    ]
    assert code not in [i["message"]["id"] for i in items]


async def test_an_edit_that_adds_her_mention_puts_the_message_in_her_inbox(
    login, cast: Cast
) -> None:
    zhao = await login("zhaomin")
    room = cast.company_room_id
    first = await post(zhao, room, "@王芳 请核对B1E-0D7", "inbox-edit-001")
    forgot = await post(zhao, room, "新资费单今天张贴", "inbox-edit-002")
    wang, li = await login("wangfang"), await login("lina")
    assert [i["message"]["id"] for i in (await inbox(wang))["items"]] == [first]
    assert [i["message"]["id"] for i in (await inbox(li))["items"]] == []
    for message, body in (
        (forgot, "@王芳 @lina 新资费单今天张贴"),
        (first, "@王芳 请核对B1E-0D7（已更正）"),  # already hers: still one item
        (forgot, "@所有人 @王芳 @lina 新资费单今天张贴"),  # @all by an edit reaches nobody new
    ):
        edited = await zhao.http.patch(
            f"/api/v1/messages/{message}",
            json={"body": body},
            headers={"X-CSRF-Token": zhao.csrf_token},
        )
        assert edited.status_code == 200, edited.text
    assert summary(await inbox(wang)) == [
        (forgot, room, ["mention"], True),
        (first, room, ["mention"], True),
    ]
    assert summary(await inbox(li)) == [(forgot, room, ["mention"], True)]
    zhou = await login("zhouqiang")
    assert (await inbox(zhou))["items"] == []


async def test_nobody_sees_messages_of_rooms_they_are_not_in(
    login, services: Services, cast: Cast
) -> None:
    zhang = await login("zhangwei")
    # A conversation between zhangwei and lina names wangfang: she is not in it.
    dm = await start_conversation(zhang, "lina")
    secret = await post(zhang, dm, "@王芳 @wangfang @所有人 @柜员 这是私聊", "inbox-priv-001")
    chengang = await login("chengang")
    # An administrator names her in a room she is not in (the head office's).
    hq = await post(chengang, cast.branch_room_ids["总部"], "@王芳 @all", "inbox-priv-002")
    wang = await login("wangfang")
    page = await inbox(wang)
    assert page["items"] == []
    assert (await wang.http.get(f"{INBOX}/count")).json() == {"unread": 0}
    li = await login("lina")
    assert [i["message"]["id"] for i in (await inbox(li))["items"]] == [secret]
    chen_items = [i["message"]["id"] for i in (await inbox(chengang))["items"]]
    assert hq not in chen_items and secret not in chen_items


async def test_leaving_a_room_takes_its_items_out_of_the_inbox(
    login, services: Services, cast: Cast
) -> None:
    zhao = await login("zhaomin")
    named = await post(zhao, cast.branch_room_ids[CHENGBEI], "@王芳 交接一下", "inbox-move-001")
    wang = await login("wangfang")
    assert [i["message"]["id"] for i in (await inbox(wang))["items"]] == [named]
    async with services.transaction() as unit:
        user = await get_user_named(unit, "wangfang")
        huaqiao = await get_branch_named(unit, HUAQIAO)
        assert user is not None and huaqiao is not None
        await move_user(unit, user, huaqiao, actor_id=None)
    assert (await inbox(wang))["items"] == []
    assert (await wang.http.get(f"{INBOX}/count")).json() == {"unread": 0}


async def test_deleted_messages_leave_the_inbox_even_for_staff(login, cast: Cast) -> None:
    zhang = await login("zhangwei")
    gone = await post(zhang, cast.company_room_id, "@赵敏 请看", "inbox-del-0001")
    deleted = await zhang.http.delete(
        f"/api/v1/messages/{gone}", headers={"X-CSRF-Token": zhang.csrf_token}
    )
    assert deleted.status_code == 204, deleted.text
    zhao = await login("zhaomin")  # a manager: she sees tombstones in history, not here
    assert (await inbox(zhao))["items"] == []
    assert (await zhao.http.get(f"{INBOX}/count")).json() == {"unread": 0}


async def test_notification_settings_and_mute_round_trip(login, cast: Cast) -> None:
    wang = await login("wangfang")
    url = "/api/v1/account/notifications"
    csrf = {"X-CSRF-Token": wang.csrf_token}
    assert (await wang.http.get(url)).json() == {"level": "mentions", "sound": False}
    changed = await wang.http.put(url, json={"level": "all", "sound": True}, headers=csrf)
    assert changed.json() == {"level": "all", "sound": True}
    partly = await wang.http.put(url, json={"level": "none"}, headers=csrf)
    assert partly.json() == {"level": "none", "sound": True}
    assert (await wang.http.get(url)).json() == {"level": "none", "sound": True}
    wrong = await wang.http.put(url, json={"level": "loud"}, headers=csrf)
    assert wrong.status_code in (400, 422)
    room = cast.company_room_id
    muted = await wang.http.put(f"/api/v1/rooms/{room}/mute", json={"muted": True}, headers=csrf)
    assert muted.json() == {"room_id": room, "muted": True}
    rooms = (await wang.http.get("/api/v1/rooms")).json()["rooms"]
    assert {r["id"]: r["muted"] for r in rooms}[room] is True
    assert all(not r["muted"] for r in rooms if r["id"] != room)
    # Not a member (another branch's room): not found, as for any room one is not in.
    other = cast.branch_room_ids["总部"]
    refused = await wang.http.put(f"/api/v1/rooms/{other}/mute", json={"muted": True}, headers=csrf)
    assert refused.status_code == 404
    # The room page tells its script, which notifies (or not) from them.
    page = await wang.http.get(f"/rooms/{room}")
    found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page.text, re.S)
    assert found, page.text[:500]
    boot = json.loads(found.group(1))
    assert boot["notifications"] == {"level": "none", "sound": True}
    assert boot["room"]["muted"] is True
    assert {"id", "branch_id", "role"} <= set(boot["me"])
    # Someone else's settings are their own.
    li = await login("lina")
    assert (await li.http.get(url)).json() == {"level": "mentions", "sound": False}
