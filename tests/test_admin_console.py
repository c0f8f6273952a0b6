"""The admin console (admin/console.py, admin/places.py, admin/console_routes.py): its
landing page, branches and rooms over the API and the page. Every change is audited; only
administrators get in."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from counterline.audit.models import AuditEntry
from counterline.services import Services
from tests.cast import CHENGBEI, HEAD_OFFICE, HUAQIAO, Cast
from tests.support.clients import Client

EN = {"Accept-Language": "en"}
BRANCHES = "/api/v1/admin/branches"
ROOMS = "/api/v1/admin/rooms"


def csrf(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf_token, **EN}


async def audit_entries(services: Services, target: str) -> list[AuditEntry]:
    async with services.reading() as unit:
        return list(
            await unit.session.scalars(
                select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id)
            )
        )


async def actions_on(services: Services, target: str) -> list[str]:
    return [entry.action for entry in await audit_entries(services, target)]


async def make_room(admin: Client, name: str, visibility: str = "invite_only") -> dict[str, Any]:
    response = await admin.http.post(
        ROOMS, json={"name": name, "visibility": visibility}, headers=csrf(admin)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_landing_page_links_every_section_and_counts_what_is_active(login) -> None:
    admin: Client = await login("chengang")
    page = await admin.http.get("/admin", headers=EN)
    assert page.status_code == 200, page.text
    for link in ("/admin/users", "/admin/branches", "/admin/portal", "/admin/settings"):
        assert f'href="{link}"' in page.text
    assert 'href="/admin/audit"' in page.text
    assert 'id="count-users">6 active users' in page.text
    assert 'id="count-branches">3 branches' in page.text
    # The company room and the three branch rooms.
    assert 'id="count-rooms">4 rooms' in page.text


@pytest.mark.parametrize("username", ["wangfang", "zhangwei", "zhaomin"])
async def test_only_administrators_reach_the_console(login, username: str) -> None:
    other: Client = await login(username)
    for path in ("/admin", "/admin/branches", "/admin/settings"):
        assert (await other.http.get(path)).status_code == 403, path
    for path in (BRANCHES, ROOMS, "/api/v1/admin/settings"):
        assert (await other.http.get(path)).status_code == 403, path
    refused = await other.http.post(BRANCHES, json={"name": "新区营业厅"}, headers=csrf(other))
    assert refused.status_code == 403
    refused = await other.http.put(
        "/api/v1/admin/settings", json={"site_name": "X"}, headers=csrf(other)
    )
    assert refused.status_code == 403


async def test_an_admin_adds_a_branch_with_its_room_and_it_is_audited(
    login, services: Services
) -> None:
    admin: Client = await login("chengang")
    added = await admin.http.post(BRANCHES, json={"name": " 新区营业厅 "}, headers=csrf(admin))
    assert added.status_code == 201, added.text
    branch = added.json()
    assert branch["name"] == "新区营业厅"
    assert branch["active_users"] == 0 and branch["archived"] is False
    rooms = (await admin.http.get(ROOMS)).json()["rooms"]
    [room] = [room for room in rooms if room["branch_id"] == branch["id"]]
    assert room["id"] == branch["room_id"] and room["name"] == "新区营业厅"
    assert await actions_on(services, f"branch:{branch['id']}") == ["branch.added"]
    again = await admin.http.post(BRANCHES, json={"name": "新区营业厅"}, headers=csrf(admin))
    assert again.status_code == 400
    assert "already exists" in again.json()["error"]


async def test_renaming_a_branch_renames_its_room_and_names_stay_unique(
    login, cast: Cast, services: Services
) -> None:
    admin: Client = await login("chengang")
    clerk: Client = await login("wangfang")
    branch_id = cast.branch_ids[CHENGBEI]
    renamed = await admin.http.patch(
        f"{BRANCHES}/{branch_id}", json={"name": "城北中心营业厅"}, headers=csrf(admin)
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "城北中心营业厅"
    assert renamed.json()["active_users"] == 2
    rooms = (await clerk.http.get("/api/v1/rooms")).json()["rooms"]
    assert {"城北中心营业厅"} <= {room["name"] for room in rooms}
    # The seeded cast's "branch.added", then the rename.
    [_, entry] = await audit_entries(services, f"branch:{branch_id}")
    assert entry.action == "branch.renamed"
    assert entry.actor_id == cast["chengang"].id
    assert entry.details == {"old_name": CHENGBEI, "name": "城北中心营业厅"}

    taken = await admin.http.patch(
        f"{BRANCHES}/{branch_id}", json={"name": HUAQIAO}, headers=csrf(admin)
    )
    assert taken.status_code == 409
    assert HUAQIAO in taken.json()["error"]
    await make_room(admin, "培训交流")
    room_taken = await admin.http.patch(
        f"{BRANCHES}/{branch_id}", json={"name": "培训交流"}, headers=csrf(admin)
    )
    assert room_taken.status_code == 409
    listed = (await admin.http.get(BRANCHES)).json()["branches"]
    assert [b["name"] for b in listed if b["id"] == branch_id] == ["城北中心营业厅"]
    missing = await admin.http.patch(f"{BRANCHES}/999999", json={"name": "X"}, headers=csrf(admin))
    assert missing.status_code == 404


async def test_a_branch_with_active_users_cannot_be_archived(
    login, cast: Cast, services: Services
) -> None:
    admin: Client = await login("chengang")
    refused = await admin.http.patch(
        f"{BRANCHES}/{cast.branch_ids[HUAQIAO]}", json={"archived": True}, headers=csrf(admin)
    )
    assert refused.status_code == 409
    assert "still has 2 active users" in refused.json()["error"]
    assert await actions_on(services, f"branch:{cast.branch_ids[HUAQIAO]}") == ["branch.added"]


async def test_an_empty_branch_is_archived_with_its_room_and_restored(
    login, services: Services
) -> None:
    admin: Client = await login("chengang")
    branch = (
        await admin.http.post(BRANCHES, json={"name": "旧营业厅"}, headers=csrf(admin))
    ).json()
    archived = await admin.http.patch(
        f"{BRANCHES}/{branch['id']}", json={"archived": True}, headers=csrf(admin)
    )
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived"] is True
    rooms = {room["id"]: room for room in (await admin.http.get(ROOMS)).json()["rooms"]}
    assert rooms[branch["room_id"]]["archived"] is True
    assert await actions_on(services, f"branch:{branch['id']}") == [
        "branch.added",
        "branch.archived",
    ]
    assert await actions_on(services, f"room:{branch['room_id']}") == ["room.archived"]
    restored = await admin.http.patch(
        f"{BRANCHES}/{branch['id']}", json={"archived": False}, headers=csrf(admin)
    )
    assert restored.json()["archived"] is False
    rooms = {room["id"]: room for room in (await admin.http.get(ROOMS)).json()["rooms"]}
    assert rooms[branch["room_id"]]["archived"] is False


async def test_rooms_are_listed_created_renamed_and_given_members(
    login, cast: Cast, services: Services
) -> None:
    admin: Client = await login("chengang")
    rooms = (await admin.http.get(ROOMS)).json()["rooms"]
    assert [room["kind"] for room in rooms] == ["company", "branch", "branch", "branch"]
    assert rooms[0]["member_count"] == 6
    room = await make_room(admin, "业务培训")
    assert room["kind"] == "topic" and room["member_count"] == 1
    renamed = await admin.http.patch(
        f"{ROOMS}/{room['id']}", json={"name": "业务培训群"}, headers=csrf(admin)
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "业务培训群"

    added = await admin.http.post(
        f"{ROOMS}/{room['id']}/members", json={"username": "lina"}, headers=csrf(admin)
    )
    assert added.status_code == 200, added.text
    assert {m["username"] for m in added.json()["members"]} == {"chengang", "lina"}
    lina: Client = await login("lina")
    assert room["id"] in {r["id"] for r in (await lina.http.get("/api/v1/rooms")).json()["rooms"]}
    nobody = await admin.http.post(
        f"{ROOMS}/{room['id']}/members", json={"username": "nobody"}, headers=csrf(admin)
    )
    assert nobody.status_code == 404
    branch_room = await admin.http.post(
        f"{ROOMS}/{cast.branch_room_ids[HEAD_OFFICE]}/members",
        json={"username": "lina"},
        headers=csrf(admin),
    )
    assert branch_room.status_code == 400

    removed = await admin.http.delete(
        f"{ROOMS}/{room['id']}/members/{cast['lina'].id}", headers=csrf(admin)
    )
    assert removed.status_code == 204
    members = (await admin.http.get(f"{ROOMS}/{room['id']}/members")).json()["members"]
    assert [m["username"] for m in members] == ["chengang"]
    assert room["id"] not in {
        r["id"] for r in (await lina.http.get("/api/v1/rooms")).json()["rooms"]
    }
    assert await actions_on(services, f"room:{room['id']}") == [
        "room.created",
        "room.renamed",
        "room.member_added",
        "room.member_removed",
    ]


async def test_an_archived_room_is_read_only_and_unlisted_but_its_history_reads(
    login, cast: Cast, services: Services
) -> None:
    admin: Client = await login("chengang")
    room = await make_room(admin, "旧项目", "public")
    await admin.http.post(
        f"{ROOMS}/{room['id']}/members", json={"username": "wangfang"}, headers=csrf(admin)
    )
    clerk: Client = await login("wangfang")
    posted = await clerk.post_message(room["id"], "归档前的消息", "client-1")
    assert posted.status_code == 201, posted.text

    archived = await admin.http.patch(
        f"{ROOMS}/{room['id']}", json={"archived": True}, headers=csrf(admin)
    )
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert await actions_on(services, f"room:{room['id']}") == [
        "room.created",
        "room.member_added",
        "room.archived",
    ]

    refused = await clerk.http.post(
        f"/api/v1/rooms/{room['id']}/messages",
        json={"body": "还能发吗", "client_id": "client-2"},
        headers=csrf(clerk),
    )
    assert refused.status_code == 403
    assert "archived" in refused.json()["error"]
    edit = await clerk.http.patch(
        f"/api/v1/messages/{posted.json()['id']}", json={"body": "改一下"}, headers=csrf(clerk)
    )
    assert edit.status_code == 403
    listed = (await clerk.http.get("/api/v1/rooms")).json()
    assert room["id"] not in {r["id"] for r in listed["rooms"]}
    assert room["id"] not in {r["id"] for r in listed.get("joinable", [])}
    history = await clerk.http.get(f"/api/v1/rooms/{room['id']}/messages")
    assert history.status_code == 200
    assert [m["body"] for m in history.json()["messages"]] == ["归档前的消息"]
    page = await clerk.http.get(f"/rooms/{room['id']}")
    assert page.status_code == 200 and "归档前的消息" in page.text
    add = await admin.http.post(
        f"{ROOMS}/{room['id']}/members", json={"username": "lina"}, headers=csrf(admin)
    )
    assert add.status_code == 403

    reopened = await admin.http.patch(
        f"{ROOMS}/{room['id']}", json={"archived": False}, headers=csrf(admin)
    )
    assert reopened.json()["archived"] is False
    assert (await clerk.post_message(room["id"], "又开了", "client-3")).status_code == 201


async def test_company_and_branch_rooms_are_not_archived_on_their_own(login, cast: Cast) -> None:
    admin: Client = await login("chengang")
    for room_id in (cast.company_room_id, cast.branch_room_ids[CHENGBEI]):
        refused = await admin.http.patch(
            f"{ROOMS}/{room_id}", json={"archived": True}, headers=csrf(admin)
        )
        assert refused.status_code == 400, room_id


async def test_malformed_console_requests_are_4xx(login) -> None:
    admin: Client = await login("chengang")
    for body in ({"name": ""}, {"name": "x" * 101}, {"name": 5}, {}):
        answer = await admin.http.post(BRANCHES, json=body, headers=csrf(admin))
        assert 400 <= answer.status_code < 500, body
    answer = await admin.http.patch(f"{ROOMS}/1", json={"archived": "yes"}, headers=csrf(admin))
    assert answer.status_code == 422
    answer = await admin.http.get(f"{ROOMS}/99999999999999999999/members")
    assert answer.status_code == 422
    answer = await admin.http.get(f"{ROOMS}/999999/members")
    assert answer.status_code == 404


async def test_the_branches_page_renames_and_archives_with_plain_forms(
    login, cast: Cast, services: Services
) -> None:
    admin: Client = await login("chengang")
    page = await admin.http.get("/admin/branches", headers=EN)
    assert page.status_code == 200
    assert 'aria-current="page">Branches and rooms' in page.text
    assert CHENGBEI in page.text and HUAQIAO in page.text
    branch_id = cast.branch_ids[HUAQIAO]
    renamed = await admin.http.post(
        f"/admin/branches/{branch_id}",
        data={"csrf_token": admin.csrf_token, "action": "rename", "name": "花桥新营业厅"},
        headers=EN,
    )
    assert renamed.status_code == 303
    assert renamed.headers["location"] == f"/admin/branches?done=branch_renamed#branch-{branch_id}"
    done = await admin.http.get(renamed.headers["location"], headers=EN)
    assert "Branch renamed; its room has the new name too." in done.text
    assert "花桥新营业厅" in done.text
    refused = await admin.http.post(
        f"/admin/branches/{branch_id}",
        data={"csrf_token": admin.csrf_token, "action": "archive"},
        headers=EN,
    )
    assert refused.status_code == 409
    assert 'role="alert" id="console-error">花桥新营业厅 still has 2 active users' in refused.text
    forged = await admin.http.post(
        f"/admin/branches/{branch_id}", data={"csrf_token": "forged", "action": "archive"}
    )
    assert forged.status_code == 403
    assert await actions_on(services, f"branch:{branch_id}") == ["branch.added", "branch.renamed"]


async def test_the_room_page_adds_and_removes_members(login, cast: Cast) -> None:
    admin: Client = await login("chengang")
    created = await admin.http.post(
        "/admin/rooms",
        data={"csrf_token": admin.csrf_token, "name": "柜面答疑", "visibility": "invite_only"},
    )
    assert created.status_code == 303
    room_path = created.headers["location"].split("?")[0]
    added = await admin.http.post(
        f"{room_path}/members", data={"csrf_token": admin.csrf_token, "username": "zhouqiang"}
    )
    assert added.status_code == 303
    page = await admin.http.get(room_path, headers=EN)
    assert "周强" in page.text and "2 members" in page.text
    removed = await admin.http.post(
        f"{room_path}/members/{cast['zhouqiang'].id}/remove",
        data={"csrf_token": admin.csrf_token},
    )
    assert removed.status_code == 303
    page = await admin.http.get(room_path, headers=EN)
    assert "周强" not in page.text
    unknown = await admin.http.post(
        f"{room_path}/members", data={"csrf_token": admin.csrf_token, "username": "nobody"}
    )
    assert unknown.status_code == 404
