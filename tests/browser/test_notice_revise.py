"""Issue 14 in the browser, revising: a trainer's notice with a quiz and a file, which a clerk
has already passed. On a phone, the trainer opens "Revise" from the notice page: the form
holds the body, the due date, the file and the quiz with its right answers. She changes the
body and a question, says what changed, keeps "ask everyone again" on and submits from the
keyboard. The clerk's notice page shows the new body and what changed, and asks again."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Tab
from tests.cast import CHENGBEI, Cast

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
QUIZ = {
    "pass_mark": 100,
    "questions": [
        {
            "prompt": "无机顶盒用户如何收费？",
            "options": ["按主终端", "免收", "按副终端"],
            "correct": 2,
            "explanation": "按副终端收费。",
        },
        {
            "kind": "true_false",
            "prompt": "副终端可以单独停机。",
            "correct": 1,
            "explanation": "副终端随主终端停机。",
        },
    ],
}


def test_a_trainer_revises_body_and_quiz_and_the_clerk_is_asked_again(
    open_tab, api_user, cast: Cast
) -> None:
    trainer_api = api_user("zhangwei")
    headers = {"X-CSRF-Token": trainer_api.csrf_token}
    upload = trainer_api.http.post(
        "/api/v1/uploads", files={"file": ("收费标准.pdf", PDF, "application/pdf")}, headers=headers
    )
    assert upload.status_code == 201, upload.text
    created = trainer_api.http.post(
        "/api/v1/notices",
        json={
            "title": "机顶盒收费新规",
            "body": "无机顶盒用户按副终端收费。",
            "audience": {"branch_ids": [cast.branch_ids[CHENGBEI]]},
            "due_at": (datetime.now() + timedelta(days=3)).astimezone().isoformat(),
            "quiz": QUIZ,
            "attachment_ids": [upload.json()["id"]],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    notice_id = created.json()["id"]
    clerk_api = api_user("wangfang")
    passed = clerk_api.http.post(
        f"/api/v1/notices/{notice_id}/acknowledgement",
        json={"answers": [2, 1]},
        headers={"X-CSRF-Token": clerk_api.csrf_token},
    )
    assert passed.json()["passed"] is True, passed.text

    trainer: Tab = open_tab(viewport=PHONE)
    trainer.enter("zhangwei")
    trainer.goto(f"/notices/{notice_id}")
    page = trainer.page
    page.locator("#notice-revise").click()
    page.wait_for_url(re.compile(rf"/notices/{notice_id}/revise$"))
    expect(page.locator("#notice-fixed-title")).to_have_text("机顶盒收费新规")
    expect(page.locator("#notice-fixed-audience")).to_contain_text(CHENGBEI)
    expect(page.locator("#notice-body-input")).to_have_value("无机顶盒用户按副终端收费。")
    assert page.locator("#notice-due").input_value()
    expect(page.locator("#notice-tray .tray-name")).to_have_text(["收费标准.pdf"])
    questions = page.locator(".quiz-builder-question")
    expect(questions).to_have_count(2)
    first, second = questions.nth(0), questions.nth(1)
    expect(first.locator(".quiz-prompt")).to_have_value("无机顶盒用户如何收费？")
    expect(first.locator(".quiz-option-text")).to_have_count(3)
    expect(first.locator(".quiz-correct").nth(2)).to_be_checked()
    expect(first.locator(".quiz-explanation-input")).to_have_value("按副终端收费。")
    expect(second.locator(".quiz-kind")).to_have_value("true_false")
    expect(second.locator(".quiz-truth input").nth(1)).to_be_checked()
    expect(page.get_by_label(trainer.string("notice_question")).nth(1)).to_have_value(
        "副终端可以单独停机。"
    )
    ask_again = page.locator("#notice-requires-ack")
    expect(ask_again).to_be_checked()
    assert trainer.horizontal_overflow() == 0
    trainer.screenshot("notice-revise-phone.png")

    page.locator("#notice-body-input").fill("无机顶盒用户一律按主终端收费。")
    first.locator(".quiz-prompt").fill("无机顶盒用户现在如何收费？")
    first.locator(".quiz-correct").nth(0).check()
    first.locator(".quiz-explanation-input").fill("新规：按主终端收费。")
    page.locator("#notice-publish").focus()
    page.keyboard.press("Enter")  # "what changed" is still empty: refused, and focused
    expect(page.locator("#notice-error")).to_have_text(trainer.string("notice_need_changes"))
    expect(page.locator("#notice-changes-input")).to_be_focused()
    page.keyboard.type("收费标准改为按主终端。")
    page.locator("#notice-publish").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/notices/{notice_id}$"))
    expect(page.locator(".notice-changes")).to_contain_text("收费标准改为按主终端。")
    expect(page.locator(".notice-meta")).to_contain_text("第 2 版")

    clerk: Tab = open_tab()
    clerk.enter("wangfang")
    clerk.goto(f"/notices/{notice_id}")
    expect(clerk.page.locator(".notice-body")).to_have_text("无机顶盒用户一律按主终端收费。")
    expect(clerk.page.locator(".notice-changes")).to_contain_text("收费标准改为按主终端。")
    expect(clerk.page.locator("#notice-revise")).to_have_count(0)
    expect(clerk.page.locator(".notice-attachments")).to_contain_text("收费标准.pdf")
    quiz = clerk.page.locator(".quiz-question")
    expect(quiz).to_have_count(2)
    expect(quiz.nth(0).locator("legend")).to_have_text("无机顶盒用户现在如何收费？")
    quiz.nth(0).get_by_label("按主终端").check()
    quiz.nth(1).get_by_label("错").check()
    clerk.page.locator("#notice-submit").click()
    expect(clerk.page.locator("#notice-result")).to_contain_text("已通过")
