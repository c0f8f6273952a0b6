"""CSV imports of users (/api/v1/admin/users/import): the preview checks every row without
writing (UTF-8 with or without BOM, GBK from old Excel, Chinese or English headers); the
import creates the valid rows in the background with its progress readable; the one-time
passwords are downloadable once, by the admin who ran it, and every one logs in."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx

from counterline.admin.user_imports import STALLED_AFTER
from counterline.admin.user_models import UserImport
from counterline.db import utcnow
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client
from tests.support.waiting import wait_for

IMPORT = "/api/v1/admin/users/import"

GOOD_AND_BAD = (
    "username,display_name,branch,role\n"
    "liuyang,刘洋,城北营业厅,clerk\n"
    "chenjing,陈静,花桥营业厅,trainer\n"
    "liuyang,刘洋二,城北营业厅,clerk\n"  # twice in the file
    "sunli,孙丽,城东营业厅,clerk\n"  # no such branch
    "wuhao,吴浩,城北营业厅,boss\n"  # no such role
    "zhaolei,赵磊,花桥营业厅,\n"  # no role: a clerk
    "wangfang,王芳二,城北营业厅,clerk\n"  # taken already
)


def csrf(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf_token}


async def preview(admin: Client, data: bytes, **params: Any) -> httpx.Response:
    return await admin.http.post(
        f"{IMPORT}/preview",
        content=data,
        params=params,
        headers={**csrf(admin), "Content-Type": "text/csv"},
    )


def errors_by_line(answer: dict[str, Any]) -> dict[int, list[str]]:
    return {row["line"]: row["errors"] for row in answer["rows"] if row["errors"]}


async def finished(admin: Client, import_id: int) -> dict[str, Any]:
    status: dict[str, Any] = {}

    async def done() -> bool:
        nonlocal status
        status = (await admin.http.get(f"{IMPORT}/{import_id}")).json()
        return status["state"] != "running"

    await wait_for(done, 60, "the import to end")
    return status


async def test_the_preview_marks_each_bad_row_and_writes_nothing(login, cast: Cast) -> None:
    admin = await login("chengang")
    admin.http.headers["Accept-Language"] = "en"
    response = await preview(admin, GOOD_AND_BAD.encode())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["valid"], answer["invalid"], answer["encoding"]) == (3, 4, "utf-8")
    errors = errors_by_line(answer)
    assert sorted(errors) == [4, 5, 6, 8]
    assert "line 2" in errors[4][0]
    assert "城东营业厅" in errors[5][0]
    assert "boss" in errors[6][0]
    assert "taken" in errors[8][0]
    assert answer["missing_branches"] == ["城东营业厅"]
    users = (await admin.http.get("/api/v1/admin/users", params={"q": "liuyang"})).json()
    assert users["total"] == 0
    with_branches = (await preview(admin, GOOD_AND_BAD.encode(), create_branches="true")).json()
    assert sorted(errors_by_line(with_branches)) == [4, 6, 8]


async def test_too_long_fields_and_bad_files_are_refused_with_reasons(login) -> None:
    admin = await login("chengang")
    admin.http.headers["Accept-Language"] = "en"
    rows = (
        "username,display_name,branch,password\n"
        f"{'a' * 65},名字,城北营业厅,\n"
        f"okname,{'名' * 101},城北营业厅,\n"
        f"okname2,名字,{'厅' * 101},\n"
        "okname3,名字,城北营业厅,short\n"
    )
    answer = (await preview(admin, rows.encode())).json()
    assert sorted(errors_by_line(answer)) == [2, 3, 4, 5]
    no_header = await preview(admin, b"a,b,c\n1,2,3\n")
    assert no_header.status_code == 400 and "username" in no_header.json()["error"]
    for bad in (b"", b"\x00\x01\x02\xff\xfe\x00", b"username,display_name,branch\n"):
        refused = await preview(admin, bad)
        assert refused.status_code == 400, (bad, refused.text)


async def test_gbk_files_bom_and_chinese_headers_are_read(login, cast: Cast) -> None:
    admin = await login("chengang")
    chinese = (
        "用户名,姓名,营业厅,角色\nliuyang,刘洋,城北营业厅,柜员\nchenjing,陈静,花桥营业厅,培训师\n"
    )
    for data, encoding in (
        (chinese.encode("gbk"), "gb18030"),
        (b"\xef\xbb\xbf" + chinese.encode(), "utf-8-sig"),
        (chinese.encode("utf-16"), "utf-16"),
    ):
        answer = (await preview(admin, data)).json()
        assert answer["encoding"] == encoding
        assert answer["invalid"] == 0, answer
        assert [
            (row["username"], row["display_name"], row["branch"]) for row in answer["rows"]
        ] == [
            ("liuyang", "刘洋", CHENGBEI),
            ("chenjing", "陈静", HUAQIAO),
        ]
    form = await admin.http.post(
        f"{IMPORT}/preview",
        files={"file": ("users.csv", chinese.encode("gbk"), "text/csv")},
        headers=csrf(admin),
    )
    assert form.status_code == 200 and form.json()["valid"] == 2


async def test_an_import_creates_the_valid_rows_and_each_logs_in_with_its_password(
    login, server, cast: Cast
) -> None:
    admin = await login("chengang")
    started = await admin.http.post(
        IMPORT, content=GOOD_AND_BAD.encode(), headers={**csrf(admin), "Content-Type": "text/csv"}
    )
    assert started.status_code == 202, started.text
    assert started.json()["total"] == 3 and len(started.json()["errors"]) == 4
    status = await finished(admin, started.json()["id"])
    assert (status["state"], status["done"], status["created"], status["percent"]) == (
        "done",
        3,
        3,
        100,
    )
    assert status["passwords_url"]
    other_admin = await admin_twin(login, admin, cast)
    refused = await other_admin.http.get(status["passwords_url"])
    assert refused.status_code == 403
    download = await admin.http.get(status["passwords_url"])
    assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert {row["username"] for row in rows} == {"liuyang", "chenjing", "zhaolei"}
    for row in rows:
        async with httpx.AsyncClient(base_url=server.url) as client:
            signed_in = await client.post(
                "/api/v1/session",
                json={"username": row["username"], "password": row["one_time_password"]},
            )
        assert signed_in.status_code == 200, row
        assert signed_in.json()["must_change_password"] is True
    assert (await admin.http.get(status["passwords_url"])).status_code == 409
    after = (await admin.http.get(f"{IMPORT}/{started.json()['id']}")).json()
    assert after["passwords_url"] is None
    listed = (await admin.http.get("/api/v1/admin/users", params={"q": "zhaolei"})).json()
    assert listed["users"][0]["role"] == "clerk"
    audit = (await admin.http.get("/api/v1/audit", params={"action": "user.import"})).json()
    assert {entry["action"] for entry in audit["entries"]} == {
        "user.import.started",
        "user.import.finished",
        "user.import.passwords_taken",
    }


async def admin_twin(login, admin: Client, cast: Cast) -> Client:
    """A second administrator (promoted through the console)."""
    promoted = await admin.http.patch(
        f"/api/v1/admin/users/{cast['zhangwei'].id}", json={"role": "admin"}, headers=csrf(admin)
    )
    assert promoted.status_code == 200
    return await login("zhangwei")


async def test_an_import_can_create_the_missing_branches(login, cast: Cast) -> None:
    admin = await login("chengang")
    data = "username,display_name,branch,password\nsunli,孙丽,城东营业厅,sunli-pass-1\n"
    started = await admin.http.post(
        IMPORT,
        content=data.encode(),
        params={"create_branches": "true"},
        headers={**csrf(admin), "Content-Type": "text/csv"},
    )
    assert started.status_code == 202, started.text
    status = await finished(admin, started.json()["id"])
    assert status["created"] == 1 and status["passwords_url"] is None  # she has her own
    [sunli] = (await admin.http.get("/api/v1/admin/users", params={"q": "sunli"})).json()["users"]
    assert sunli["branch_name"] == "城东营业厅" and sunli["must_change_password"] is False


async def test_a_file_with_no_valid_row_starts_nothing(login) -> None:
    admin = await login("chengang")
    data = "username,display_name,branch\nwangfang,王芳,城北营业厅\n"
    refused = await admin.http.post(
        IMPORT, content=data.encode(), headers={**csrf(admin), "Content-Type": "text/csv"}
    )
    assert refused.status_code == 400
    assert (await admin.http.get(f"{IMPORT}/1")).status_code == 404


async def test_an_import_whose_server_stopped_goes_on_at_the_next_status_read(
    login, services, cast: Cast
) -> None:
    admin = await login("chengang")
    stalled_at = utcnow() - STALLED_AFTER - timedelta(seconds=1)
    rows = [
        {
            "line": line,
            "username": username,
            "display_name": name,
            "branch_id": cast.branch_ids[CHENGBEI],
            "role": "clerk",
            "password": None,
        }
        for line, username, name in ((2, "liuyang", "刘洋"), (3, "chenjing", "陈静"))
    ]
    async with services.transaction() as unit:
        job = UserImport(
            created_by_id=cast["chengang"].id,
            state="running",
            total=2,
            done=1,  # the first row was created before the server stopped
            created=1,
            errors=[],
            pending=rows,
            one_time_passwords=[],
            heartbeat_at=stalled_at,
        )
        unit.session.add(job)
        await unit.session.flush()
        import_id = job.id
    status = await finished(admin, import_id)
    assert (status["state"], status["done"], status["created"]) == ("done", 2, 2)
    found = (await admin.http.get("/api/v1/admin/users", params={"q": "i"})).json()["users"]
    usernames = {user["username"] for user in found}
    assert "chenjing" in usernames and "liuyang" not in usernames  # only what was left
