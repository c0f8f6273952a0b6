"""Business notices (notices/): a trainer publishes to chosen branches, roles or people; the
audience is fixed at publication, each person gets it on their own stream at once, reads
it, acknowledges it (recorded with time and address) and passes its quiz, retrying after
reading the explanations of their wrong answers. Over real HTTP against the live server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from counterline.accounts.actions import change_role, get_branch_named, get_user_named
from counterline.accounts.models import Role
from counterline.audit.models import AuditEntry
from counterline.notices.models import NoticeAcknowledgement, NoticeAttempt, NoticeRecipient
from counterline.people.actions import add_user, move_user
from counterline.services import Services
from tests.cast import CHENGBEI, HEAD_OFFICE, HUAQIAO, Cast
from tests.support.clients import Client, open_stream

QUIZ = {
    "pass_mark": 100,
    "questions": [
        {
            "prompt": "无机顶盒的用户收费标准是？",
            "options": ["按主终端收费", "免收", "按副终端收费"],
            "correct": 0,
            "explanation": "价格局文件第三条：无机顶盒按主终端收费。",
        },
        {
            "kind": "true_false",
            "prompt": "副终端可以单独办理停机。",
            "correct": 1,
            "explanation": "副终端随主终端停机。",
        },
        {
            "prompt": "新规何时生效？",
            "options": ["12月1日", "1月1日"],
            "correct": 0,
            "explanation": "12月1日零时起执行。",
        },
    ],
}


def later(days: float = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def notice_body(cast: Cast, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "机顶盒收费新规",
        "body": "**注意**：无机顶盒用户按主终端收费，资源编码 B1E*0D7*X 照旧。",
        "audience": {"branch_ids": [cast.branch_ids[CHENGBEI], cast.branch_ids[HUAQIAO]]},
        "due_at": later(),
    }
    body.update(overrides)
    return body


async def publish(client: Client, body: dict[str, Any]) -> httpx.Response:
    return await client.http.post(
        "/api/v1/notices", json=body, headers={"X-CSRF-Token": client.csrf_token}
    )


async def published(client: Client, body: dict[str, Any]) -> int:
    response = await publish(client, body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def acknowledge(client: Client, notice_id: int, answers: list[int] | None = None):
    return await client.http.post(
        f"/api/v1/notices/{notice_id}/acknowledgement",
        json={"answers": answers},
        headers={"X-CSRF-Token": client.csrf_token, "X-Forwarded-For": "10.1.2.3"},
    )


async def audience_of(services: Services, notice_id: int) -> dict[int, tuple[int, str]]:
    async with services.reading() as unit:
        rows = await unit.session.scalars(
            select(NoticeRecipient).where(NoticeRecipient.notice_id == notice_id)
        )
        return {row.user_id: (row.branch_id, row.role) for row in rows}


@pytest.fixture
def server(start_server):
    return start_server(trusted_proxies=["127.0.0.1/32"])


async def test_a_notice_to_two_branches_reaches_exactly_the_people_there(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    assert await audience_of(services, notice_id) == {
        cast["wangfang"].id: (cast.branch_ids[CHENGBEI], "clerk"),
        cast["zhaomin"].id: (cast.branch_ids[CHENGBEI], "manager"),
        cast["lina"].id: (cast.branch_ids[HUAQIAO], "clerk"),
        cast["zhouqiang"].id: (cast.branch_ids[HUAQIAO], "clerk"),
    }
    clerk = await login("lina")
    mine = (await clerk.http.get("/api/v1/notices")).json()["notices"]
    assert [(n["id"], n["status"], n["has_quiz"]) for n in mine] == [(notice_id, "pending", False)]
    outsider = await login("chengang")  # an admin at head office: not in the audience
    assert (await outsider.http.get("/api/v1/notices")).json()["notices"] == []
    read = (await clerk.http.get(f"/api/v1/notices/{notice_id}")).json()
    assert "<strong>注意</strong>" in read["body_html"] and "B1E*0D7*X" in read["body_html"]
    assert read["can_manage"] is False


async def test_roles_and_people_make_an_audience_and_the_author_is_not_in_it(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    audience = {"roles": ["manager", "trainer"], "user_ids": [cast["lina"].id]}
    notice_id = await published(trainer, notice_body(cast, audience=audience))
    assert set(await audience_of(services, notice_id)) == {cast["zhaomin"].id, cast["lina"].id}


async def test_everyone_in_the_audience_hears_of_the_notice_on_their_stream_at_once(
    server, login, cast: Cast
) -> None:
    clerk = await login("wangfang")
    stream = await open_stream(server.ws_url, cookie=clerk.session_cookie)
    try:
        trainer = await login("zhangwei")
        notice_id = await published(trainer, notice_body(cast))
        frame = await stream.next("notice.assigned")
        assert frame["notice"]["id"] == notice_id and frame["notice"]["title"] == "机顶盒收费新规"
        assert frame["reason"] == "published"
        assert (await acknowledge(clerk, notice_id)).status_code == 200
        assert (await stream.next("notice.completed"))["notice_id"] == notice_id
    finally:
        await stream.close()


async def test_acknowledging_records_time_and_address_once(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    clerk = await login("wangfang")
    answer = await acknowledge(clerk, notice_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "acknowledged" and answer.json()["passed"] is True
    again = await acknowledge(clerk, notice_id)
    assert again.status_code == 409
    async with services.reading() as unit:
        acks = list(await unit.session.scalars(select(NoticeAcknowledgement)))
        audit = await unit.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "notice.acknowledged")
        )
    assert [(a.user_id, a.client_ip, a.revision) for a in acks] == [
        (cast["wangfang"].id, "10.1.2.3", 1)
    ]
    assert audit is not None and audit.target == f"notice:{notice_id}"
    mine = (await clerk.http.get("/api/v1/notices?open=true")).json()["notices"]
    assert mine == []


async def test_a_quiz_failed_shows_the_explanations_and_a_retry_passes(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast, quiz=QUIZ))
    clerk = await login("lina")
    read = (await clerk.http.get(f"/api/v1/notices/{notice_id}")).json()
    assert [q["options"] for q in read["questions"]][1] == ["true", "false"]
    assert all("correct" not in q and "explanation" not in q for q in read["questions"])
    assert (await acknowledge(clerk, notice_id)).status_code == 400  # no answers
    assert (await acknowledge(clerk, notice_id, [0, 1, 2**70])).status_code == 422
    assert (await acknowledge(clerk, notice_id, [0, 1])).status_code == 400  # too few
    failed = await acknowledge(clerk, notice_id, [0, 0, 1])
    assert failed.status_code == 200, failed.text
    result = failed.json()
    assert (result["passed"], result["score"], result["correct"], result["total"]) == (
        False,
        33,
        1,
        3,
    )
    assert [(w["position"], w["chosen"], w["explanation"]) for w in result["wrong"]] == [
        (2, 0, "副终端随主终端停机。"),
        (3, 1, "12月1日零时起执行。"),
    ]
    assert result["status"] == "pending"
    passed = (await acknowledge(clerk, notice_id, [0, 1, 0])).json()
    assert (passed["passed"], passed["score"], passed["status"], passed["attempts"]) == (
        True,
        100,
        "passed",
        2,
    )
    async with services.reading() as unit:
        attempts = list(
            await unit.session.scalars(select(NoticeAttempt).order_by(NoticeAttempt.id))
        )
    assert [(a.answers, a.score, a.passed, a.client_ip) for a in attempts] == [
        ([0, 0, 1], 33, False, "10.1.2.3"),
        ([0, 1, 0], 100, True, "10.1.2.3"),
    ]


async def test_the_pass_mark_decides(login, cast: Cast) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast, quiz={**QUIZ, "pass_mark": 60}))
    clerk = await login("lina")
    assert (await acknowledge(clerk, notice_id, [0, 1, 1])).json()["passed"] is True


async def test_people_outside_the_audience_cannot_acknowledge_or_read_it(login, cast) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    outsider = await login("chengang")  # admin: oversees it, but is not asked to read it
    assert (await acknowledge(outsider, notice_id)).status_code == 403
    assert (await outsider.http.get(f"/api/v1/notices/{notice_id}")).json()["can_manage"]
    audience = {"branch_ids": [cast.branch_ids[HUAQIAO]]}
    other = await published(trainer, notice_body(cast, audience=audience))
    clerk = await login("wangfang")
    assert (await clerk.http.get(f"/api/v1/notices/{other}")).status_code == 404
    assert (await acknowledge(clerk, other)).status_code == 403


async def test_clerks_cannot_publish_and_managers_publish_to_their_own_branch_only(
    login, services: Services, cast: Cast
) -> None:
    clerk = await login("wangfang")
    assert (await publish(clerk, notice_body(cast))).status_code == 403
    manager = await login("zhaomin")
    assert (await publish(manager, notice_body(cast))).status_code == 403  # two branches
    other = {"user_ids": [cast["lina"].id]}
    assert (await publish(manager, notice_body(cast, audience=other))).status_code == 403
    notice_id = await published(manager, notice_body(cast, audience={"all": True}))
    assert set(await audience_of(services, notice_id)) == {cast["wangfang"].id}


@pytest.mark.parametrize(
    "change",
    [
        {"audience": {}},
        {"audience": {"branch_ids": [999999]}},
        {"audience": {"user_ids": [999999]}},
        {"audience": {"roles": ["emperor"]}},
        {"due_at": "2020-01-01T00:00:00+00:00"},
        {"due_at": "2026-12-01T00:00:00"},  # no time zone
        {"due_at": "9999-12-01T00:00:00+00:00"},
        {"title": ""},
        {"title": "x" * 201},
        {"quiz": {"questions": []}},
        {"quiz": {"questions": [{"prompt": "?", "options": ["一"], "correct": 0}]}},
        {"quiz": {"questions": [{"prompt": "?", "options": ["一", "二"], "correct": 2}]}},
        {"quiz": {**QUIZ, "pass_mark": 0}},
        {"audience": {"branch_ids": [2**63]}},
    ],
)
async def test_a_bad_notice_is_refused_with_a_4xx(login, cast: Cast, change) -> None:
    trainer = await login("zhangwei")
    response = await publish(trainer, notice_body(cast, **change))
    assert 400 <= response.status_code < 500 and response.json()["error"], response.text


async def test_publishing_is_in_the_audit_log(login, services: Services, cast: Cast) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast, quiz=QUIZ))
    async with services.reading() as unit:
        entry = await unit.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "notice.published")
        )
    assert entry is not None and entry.target == f"notice:{notice_id}"
    assert entry.actor_id == cast["zhangwei"].id
    assert (entry.details["audience_size"], entry.details["quiz_questions"]) == (4, 3)


async def test_the_audience_stays_as_it_was_when_people_change_branch_or_role(
    login, services: Services, cast: Cast
) -> None:
    """The record keeps who was asked, with the branch and role they had then. Someone who
    moves into a targeted branch later is not added by that move; a revision that asks
    everyone again adds them (and keeps everyone already asked)."""
    trainer = await login("zhangwei")
    audience = {"branch_ids": [cast.branch_ids[CHENGBEI]], "roles": ["trainer"]}
    notice_id = await published(trainer, notice_body(cast, audience=audience))
    before = await audience_of(services, notice_id)
    async with services.transaction() as unit:
        wangfang = await get_user_named(unit, "wangfang")
        await move_user(unit, wangfang, await get_branch_named(unit, HUAQIAO), actor_id=None)
        lina = await get_user_named(unit, "lina")
        await move_user(unit, lina, await get_branch_named(unit, CHENGBEI), actor_id=None)
        zhaomin = await get_user_named(unit, "zhaomin")
        await change_role(unit, zhaomin, Role.clerk, actor_id=None)
        head = await get_branch_named(unit, HEAD_OFFICE)
        await add_user(
            unit, username="xinpeixun", display_name="新培训师", branch=head, role=Role.trainer
        )
    after = await audience_of(services, notice_id)
    assert before == {
        cast["wangfang"].id: (cast.branch_ids[CHENGBEI], "clerk"),
        cast["zhaomin"].id: (cast.branch_ids[CHENGBEI], "manager"),
    }
    assert after == before
    # The moved clerk still has it to do; the clerk who arrived later does not.
    assert len((await (await login("wangfang")).http.get("/api/v1/notices")).json()["notices"]) == 1
    assert (await (await login("lina")).http.get("/api/v1/notices")).json()["notices"] == []
    revised = await trainer.http.post(
        f"/api/v1/notices/{notice_id}/revisions",
        json={"body": "补充：副终端同样适用。", "changes": "补充副终端", "requires_ack": True},
        headers={"X-CSRF-Token": trainer.csrf_token},
    )
    assert revised.status_code == 201, revised.text
    async with services.reading() as unit:
        newcomer = await get_user_named(unit, "xinpeixun")
    assert await audience_of(services, notice_id) == {
        **before,
        cast["lina"].id: (cast.branch_ids[CHENGBEI], "clerk"),
        newcomer.id: (cast.branch_ids[HEAD_OFFICE], "trainer"),
    }


async def test_a_revision_asking_again_reopens_everyone_and_one_that_does_not_keeps_them(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    clerk = await login("wangfang")
    assert (await acknowledge(clerk, notice_id)).status_code == 200

    async def revise(body: dict[str, Any], who: Client = trainer) -> httpx.Response:
        return await who.http.post(
            f"/api/v1/notices/{notice_id}/revisions",
            json=body,
            headers={"X-CSRF-Token": who.csrf_token},
        )

    quiet = await revise({"body": "错别字修正", "changes": "改错字", "requires_ack": False})
    assert quiet.status_code == 201 and quiet.json()["revision"] == 2
    status = (await clerk.http.get(f"/api/v1/notices/{notice_id}")).json()
    assert (status["status"], status["changes"], status["body"]) == (
        "acknowledged",
        "改错字",
        "错别字修正",
    )
    loud = await revise({"body": "新增测验", "changes": "加测验", "quiz": QUIZ})
    assert loud.status_code == 201 and loud.json()["revision"] == 3
    status = (await clerk.http.get(f"/api/v1/notices/{notice_id}")).json()
    assert (status["status"], status["has_quiz"], len(status["questions"])) == ("pending", True, 3)
    assert (await acknowledge(clerk, notice_id, [0, 1, 0])).json()["status"] == "passed"
    manager = await login("zhaomin")  # a publisher, but not the author
    assert (await revise({"body": "x", "changes": "y"}, manager)).status_code == 403


async def test_a_notice_past_its_due_date_is_overdue_for_who_has_not_done_it(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(
        trainer, notice_body(cast, effective_at=later(-3), due_at=later(-0.001))
    )
    clerk = await login("lina")
    [mine] = (await clerk.http.get("/api/v1/notices")).json()["notices"]
    assert mine["status"] == "overdue"
    assert (await acknowledge(clerk, notice_id)).json()["status"] == "acknowledged"


async def test_the_notice_pages_show_my_notices_the_body_and_the_quiz_without_answers(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast, quiz=QUIZ))
    clerk = await login("lina")
    listing = await clerk.http.get("/notices")
    assert listing.status_code == 200 and f'href="/notices/{notice_id}"' in listing.text
    assert 'id="notices-link" href="/notices" aria-current="page"' in listing.text
    page = await clerk.http.get(f"/notices/{notice_id}")
    assert page.status_code == 200
    assert "<strong>注意</strong>" in page.text and "无机顶盒的用户收费标准是？" in page.text
    assert "价格局文件第三条" not in page.text  # explanations come only after an answer
    assert (await clerk.http.get("/notices/new")).status_code == 403  # not a publisher
    form = await trainer.http.get("/notices/new")
    assert form.status_code == 200 and "花桥营业厅" in form.text


async def test_the_compliance_page_has_a_chart_with_a_text_alternative_and_the_table(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    assert (await acknowledge(await login("lina"), notice_id)).status_code == 200
    manager = await login("zhaomin")
    page = await manager.http.get(f"/notices/{notice_id}/compliance")
    assert page.status_code == 200
    assert '<svg role="img" aria-labelledby="chart-title chart-desc"' in page.text
    assert "城北营业厅" in page.text and "花桥营业厅" not in page.text  # their branch only
    assert "王芳" in page.text and "赵敏" in page.text
    full = (await trainer.http.get(f"/notices/{notice_id}/compliance")).text
    assert 'data-branch="花桥营业厅"' in full and "周强" in full and "李娜" not in full
