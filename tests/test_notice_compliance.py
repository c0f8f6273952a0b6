"""A notice's compliance (notices/): per branch as each person's branch was in the audience,
how many must read it, acknowledged, passed and are overdue, with the names still missing;
managers see their own branch, trainers and administrators all. Over real HTTP."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select, update

from counterline.accounts.actions import get_branch_named, get_user_named
from counterline.audit.models import AuditEntry
from counterline.db import utcnow
from counterline.jobs.models import Job
from counterline.jobs.registry import RunningJob
from counterline.notices import tasks
from counterline.notices.models import Notice, NoticeRecipient
from counterline.people.actions import move_user
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client, open_stream
from tests.test_notices import QUIZ, acknowledge, notice_body, published


@pytest.fixture
def server(start_server):
    return start_server(
        trusted_proxies=["127.0.0.1/32"], notice_remind_hours_before=2, notice_remind_hours_after=0
    )


async def compliance(client: Client, notice_id: int) -> Any:
    return await client.http.get(f"/api/v1/notices/{notice_id}/compliance")


def counts(answer: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {
        b["branch"]: (b["audience"], b["acknowledged"], b["passed"], b["overdue"])
        for b in answer["branches"]
    }


async def make_overdue(services: Services, notice_id: int) -> None:
    async with services.transaction() as unit:
        await unit.session.execute(
            update(Notice).where(Notice.id == notice_id).values(due_at=utcnow())
        )


async def test_compliance_counts_each_branch_and_names_who_is_missing(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast, quiz=QUIZ))
    lina, zhouqiang = await login("lina"), await login("zhouqiang")
    assert (await acknowledge(lina, notice_id, [1, 1, 1])).json()["passed"] is False
    assert (await acknowledge(lina, notice_id, [0, 1, 0])).json()["passed"] is True
    assert (await acknowledge(zhouqiang, notice_id, [1, 1, 1])).json()["passed"] is False
    answer = (await compliance(trainer, notice_id)).json()
    assert counts(answer) == {HUAQIAO: (2, 2, 1, 0), CHENGBEI: (2, 0, 0, 0)}
    assert answer["missing_count"] == 3
    missing = {(m["name"], m["attempts"], m["overdue"]) for m in answer["missing"]}
    assert missing == {("周强", 1, False), ("王芳", 0, False), ("赵敏", 0, False)}
    first = await trainer.http.get(
        f"/api/v1/notices/{notice_id}/compliance", params={"missing_limit": 1}
    )
    assert (first.json()["missing_count"], len(first.json()["missing"])) == (3, 1)

    await make_overdue(services, notice_id)
    answer = (await compliance(trainer, notice_id)).json()
    assert counts(answer) == {HUAQIAO: (2, 2, 1, 1), CHENGBEI: (2, 0, 0, 2)}
    assert all(m["overdue"] for m in answer["missing"])


async def test_a_manager_sees_only_their_branch_and_a_clerk_nothing(login, cast: Cast) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    manager = await login("zhaomin")
    answer = (await compliance(manager, notice_id)).json()
    assert counts(answer) == {CHENGBEI: (2, 0, 0, 0)}
    assert {m["name"] for m in answer["missing"]} == {"王芳", "赵敏"}
    assert (await compliance(await login("wangfang"), notice_id)).status_code == 403
    admin = (await compliance(await login("chengang"), notice_id)).json()
    assert set(counts(admin)) == {CHENGBEI, HUAQIAO}


async def test_the_published_list_shows_a_manager_the_notices_reaching_their_branch(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    ours = await published(trainer, notice_body(cast))
    audience = {"branch_ids": [cast.branch_ids[HUAQIAO]]}
    theirs = await published(trainer, notice_body(cast, audience=audience))
    manager = await login("zhaomin")
    listed = (await manager.http.get("/api/v1/notices?published=true")).json()["notices"]
    assert [n["id"] for n in listed] == [ours]
    all_listed = (await trainer.http.get("/api/v1/notices?published=true")).json()["notices"]
    assert [n["id"] for n in all_listed] == [theirs, ours]
    assert (await compliance(manager, theirs)).status_code == 403


async def remind(client: Client, notice_id: int) -> Any:
    return await client.http.post(
        f"/api/v1/notices/{notice_id}/reminders", headers={"X-CSRF-Token": client.csrf_token}
    )


async def test_a_reminder_reaches_the_overdue_clerk_at_once_and_no_one_who_is_done(
    server, login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    assert (await remind(trainer, notice_id)).json() == {"reminded": 0}  # not due yet
    await acknowledge(await login("lina"), notice_id)
    await make_overdue(services, notice_id)
    late = await login("zhouqiang")
    stream = await open_stream(server.ws_url, cookie=late.session_cookie)
    try:
        manager = await login("zhaomin")
        assert (await remind(manager, notice_id)).json() == {"reminded": 2}  # own branch
        assert (await remind(trainer, notice_id)).json() == {"reminded": 3}
        frame = await stream.next("notice.assigned")
        assert (frame["notice"]["id"], frame["reason"]) == (notice_id, "reminder")
    finally:
        await stream.close()
    [waiting] = (await late.http.get("/api/v1/notices?open=true")).json()["notices"]
    assert (waiting["id"], waiting["status"]) == (notice_id, "overdue")
    assert (await remind(await login("wangfang"), notice_id)).status_code == 403
    async with services.reading() as unit:
        reminded = set(
            await unit.session.scalars(
                select(NoticeRecipient.user_id).where(NoticeRecipient.reminded_at.is_not(None))
            )
        )
        entries = list(
            await unit.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "notice.reminded")
            )
        )
    assert reminded == {cast["zhouqiang"].id, cast["wangfang"].id, cast["zhaomin"].id}
    assert [e.details["reminded"] for e in entries] == [2, 3]  # none before the due date


async def test_an_automatic_reminder_is_a_durable_job_before_the_due_date(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    due = utcnow() + timedelta(days=3)
    notice_id = await published(trainer, notice_body(cast, due_at=due.isoformat()))
    async with services.reading() as unit:
        [job] = list(await unit.session.scalars(select(Job).where(Job.kind == "notices.remind")))
    assert job.payload["notice_id"] == notice_id
    assert abs(job.run_at - (due - timedelta(hours=2))) < timedelta(seconds=1)  # after: off
    await acknowledge(await login("lina"), notice_id)
    running = RunningJob(job.id, job.kind, job.payload, 1, 3, job.run_at)
    async with services.transaction() as unit:
        await tasks.remind(unit, running)
    async with services.reading() as unit:
        reminded = set(
            await unit.session.scalars(
                select(NoticeRecipient.user_id).where(NoticeRecipient.reminded_at.is_not(None))
            )
        )
    assert reminded == {cast["wangfang"].id, cast["zhaomin"].id, cast["zhouqiang"].id}


async def test_a_reminder_for_an_old_due_date_does_nothing(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    stale = {"notice_id": notice_id, "due_at": "2026-01-01T00:00:00+00:00"}
    async with services.transaction() as unit:
        await tasks.remind(unit, RunningJob(1, "notices.remind", stale, 1, 3, utcnow()))
    async with services.reading() as unit:
        assert (
            await unit.session.scalar(
                select(NoticeRecipient.user_id).where(NoticeRecipient.reminded_at.is_not(None))
            )
            is None
        )


async def test_the_compliance_export_has_a_row_per_person_with_when_where_and_score(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast, quiz=QUIZ))
    lina = await login("lina")
    await acknowledge(lina, notice_id, [1, 1, 1])
    await acknowledge(lina, notice_id, [0, 1, 0])
    url = f"/api/v1/notices/{notice_id}/compliance/export"
    answer = await trainer.http.get(url, params={"format": "csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    header, *people = rows
    assert header[:3] == ["姓名", "用户名", "营业厅"] and len(header) == 11
    by_name = {row[0]: row for row in people}
    assert set(by_name) == {"王芳", "赵敏", "李娜", "周强"}
    lina_row = by_name["李娜"]
    assert (lina_row[2], lina_row[3], lina_row[7], lina_row[8], lina_row[9]) == (
        HUAQIAO,
        "clerk",
        "10.1.2.3",
        "100",
        "2",
    )
    assert datetime.strptime(lina_row[6], "%Y-%m-%d %H:%M:%S") and lina_row[10] == "是"
    assert by_name["周强"][6:] == ["", "", "", "0", "否"]
    manager = await login("zhaomin")
    mine = await manager.http.get(url, params={"format": "xlsx"})
    assert mine.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(mine.content)).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == ["王芳", "赵敏"]
    assert (await (await login("wangfang")).http.get(url)).status_code == 403
    assert (await trainer.http.get(url, params={"format": "pdf"})).status_code == 422
    async with services.reading() as unit:
        exported = list(
            await unit.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "record.exported")
            )
        )
    assert [(e.target, e.details["rows"]) for e in exported] == [
        (f"notice:{notice_id}", 4),
        (f"notice:{notice_id}", 2),
    ]


async def test_a_clerk_who_moves_branch_is_still_counted_where_the_notice_reached_her(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    async with services.transaction() as unit:
        wangfang = await get_user_named(unit, "wangfang")
        await move_user(unit, wangfang, await get_branch_named(unit, HUAQIAO), actor_id=None)
    assert (await acknowledge(await login("wangfang"), notice_id)).status_code == 200
    answer = (await compliance(trainer, notice_id)).json()
    assert counts(answer) == {HUAQIAO: (2, 0, 0, 0), CHENGBEI: (2, 1, 1, 0)}
    manager = (await compliance(await login("zhaomin"), notice_id)).json()
    assert counts(manager) == {CHENGBEI: (2, 1, 1, 0)}
