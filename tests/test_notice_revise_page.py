"""Issue 14, the revise page (/notices/{id}/revise, notices/drafts.py): the publishing form in
revise mode, prefilled for the notice's author or an administrator with the current body,
due date, attachments and quiz, right answers and explanations included; anyone else is
refused as by POST /api/v1/notices/{id}/revisions, and a reader never gets the right answers
in any page. Over real HTTP against the live server."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client

QUIZ = {
    "pass_mark": 50,
    "questions": [
        {
            "prompt": "无机顶盒的用户收费标准是？",
            "options": ["按主终端收费", "免收", "按副终端收费"],
            "correct": 2,
            "explanation": "价格局文件第三条：按副终端收费（解释甲）。",
        },
        {
            "kind": "true_false",
            "prompt": "副终端可以单独办理停机。",
            "correct": 1,
            "explanation": "副终端随主终端停机（解释乙）。",
        },
    ],
}
EXPLANATIONS = [question["explanation"] for question in QUIZ["questions"]]
DUE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"


def boot_of(page: httpx.Response) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page.text, re.S)
    assert found, page.text[:500]
    return json.loads(found.group(1))


async def published(trainer: Client, cast: Cast, **more: Any) -> int:
    upload = await trainer.http.post(
        "/api/v1/uploads",
        files={"file": ("受理单.pdf", PDF, "application/pdf")},
        headers={"X-CSRF-Token": trainer.csrf_token},
    )
    assert upload.status_code == 201, upload.text
    body = {
        "title": "机顶盒收费新规",
        "body": "**注意**：无机顶盒用户按副终端收费。",
        "audience": {"branch_ids": [cast.branch_ids[CHENGBEI]], "roles": ["trainer"]},
        "due_at": DUE.isoformat(),
        "quiz": QUIZ,
        "attachment_ids": [upload.json()["id"]],
        **more,
    }
    created = await trainer.http.post(
        "/api/v1/notices", json=body, headers={"X-CSRF-Token": trainer.csrf_token}
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def test_the_author_gets_the_form_prefilled_with_the_quizs_right_answers(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, cast)

    page = await trainer.http.get(f"/notices/{notice_id}/revise")

    assert page.status_code == 200, page.text
    boot = boot_of(page)
    assert boot["mode"] == "revise"
    draft = boot["draft"]
    assert (draft["id"], draft["revision"], draft["title"]) == (notice_id, 1, "机顶盒收费新规")
    assert draft["body"] == "**注意**：无机顶盒用户按副终端收费。"
    assert datetime.fromisoformat(draft["due_at"]) == DUE
    assert draft["quiz"] == {
        "pass_mark": 50,
        "questions": [
            {
                "kind": "single",
                "prompt": "无机顶盒的用户收费标准是？",
                "options": ["按主终端收费", "免收", "按副终端收费"],
                "correct": 2,
                "explanation": EXPLANATIONS[0],
            },
            {
                "kind": "true_false",
                "prompt": "副终端可以单独办理停机。",
                "options": [],
                "correct": 1,
                "explanation": EXPLANATIONS[1],
            },
        ],
    }
    assert [a["name"] for a in draft["attachments"]] == ["受理单.pdf"]
    # Title and audience are shown, not editable; what changed and "ask again" are asked.
    html = page.text
    assert 'id="notice-title-input"' not in html and 'name="branch"' not in html
    assert re.search(r'id="notice-fixed-title">机顶盒收费新规<', html)
    audience = re.search(r'id="notice-fixed-audience">(.*?)</dd>', html, re.S)
    assert audience and CHENGBEI in audience.group(1) and HUAQIAO not in audience.group(1)
    assert re.search(r'<textarea id="notice-changes-input"[^>]* required', html)
    assert re.search(r'<input type="checkbox" id="notice-requires-ack"[^>]* checked', html)
    assert '<label for="notice-changes-input">' in html

    # The publishing form itself carries no draft.
    new = boot_of(await trainer.http.get("/notices/new"))
    assert new["mode"] == "publish" and "draft" not in new


async def test_the_draft_is_the_current_revision(login, cast: Cast) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, cast)
    revised = await trainer.http.post(
        f"/api/v1/notices/{notice_id}/revisions",
        json={"body": "第二版正文。", "changes": "改了正文", "requires_ack": False},
        headers={"X-CSRF-Token": trainer.csrf_token},
    )
    assert revised.status_code == 201, revised.text

    draft = boot_of(await trainer.http.get(f"/notices/{notice_id}/revise"))["draft"]

    assert (draft["revision"], draft["body"]) == (2, "第二版正文。")
    assert draft["quiz"] is None and draft["attachments"] == []


async def test_a_clerk_in_the_audience_is_refused_and_never_sees_the_right_answers(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, cast)
    clerk = await login("wangfang")

    refused = await clerk.http.get(f"/notices/{notice_id}/revise")
    assert refused.status_code == 403
    api = await clerk.http.post(
        f"/api/v1/notices/{notice_id}/revisions",
        json={"body": "x", "changes": "x"},
        headers={"X-CSRF-Token": clerk.csrf_token},
    )
    assert api.status_code == 403  # the same answer as the page's

    pages = [f"/notices/{notice_id}/revise", f"/notices/{notice_id}", "/notices", "/inbox"]
    for path in pages:
        page = await clerk.http.get(path)
        for explanation in EXPLANATIONS:
            assert explanation not in page.text, path
        found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page.text)
        assert found is None or '"correct"' not in found.group(1), path
    notice_page = await clerk.http.get(f"/notices/{notice_id}")
    assert notice_page.status_code == 200
    assert "draft" not in boot_of(notice_page)
    assert 'id="notice-revise"' not in notice_page.text
    read = (await clerk.http.get(f"/api/v1/notices/{notice_id}")).text
    assert '"correct"' not in read and not any(e in read for e in EXPLANATIONS)


async def test_an_administrator_may_open_it_and_who_only_oversees_it_may_not(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, cast)
    admin = await login("chengang")

    page = await admin.http.get(f"/notices/{notice_id}/revise")
    assert page.status_code == 200
    assert boot_of(page)["draft"]["quiz"]["questions"][0]["correct"] == 2
    link = f'href="/notices/{notice_id}/revise" id="notice-revise"'
    for path in (f"/notices/{notice_id}", f"/notices/{notice_id}/compliance"):
        assert link in (await admin.http.get(path)).text, path

    # The manager oversees it (it reaches her branch) but did not write it.
    manager = await login("zhaomin")
    assert (await manager.http.get(f"/notices/{notice_id}/revise")).status_code == 403
    for path in (f"/notices/{notice_id}", f"/notices/{notice_id}/compliance"):
        shown = await manager.http.get(path)
        assert shown.status_code == 200 and 'id="notice-revise"' not in shown.text, path
        assert not any(e in shown.text for e in EXPLANATIONS), path

    assert (await admin.http.get("/notices/999999/revise")).status_code == 404


async def test_the_author_finds_the_revise_link_on_the_notice_and_compliance_pages(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, cast)
    for path in (f"/notices/{notice_id}", f"/notices/{notice_id}/compliance"):
        page = await trainer.http.get(path)
        assert f'href="/notices/{notice_id}/revise" id="notice-revise"' in page.text, path


async def test_a_managers_notice_shows_its_audience_cut_to_her_branch(login, cast: Cast) -> None:
    manager = await login("zhaomin")
    created = await manager.http.post(
        "/api/v1/notices",
        json={
            "title": "本厅排班调整",
            "body": "下周起早班提前半小时。",
            "audience": {"all": True},
            "due_at": DUE.isoformat(),
        },
        headers={"X-CSRF-Token": manager.csrf_token},
    )
    assert created.status_code == 201, created.text

    page = await manager.http.get(f"/notices/{created.json()['id']}/revise")

    assert page.status_code == 200
    audience = re.search(r'id="notice-fixed-audience">(.*?)</dd>', page.text, re.S)
    assert audience and CHENGBEI in audience.group(1)
    assert boot_of(page)["draft"]["quiz"] is None
