"""Issue 14 in the browser: a trainer publishes a notice with a 3-question quiz to two branches
from the publishing form; a clerk sees its banner appear in her room at once, fails the quiz
once, reads the explanation of her wrong answer, and passes; her manager's dashboard shows
their branch's counts, table and chart, and the reminder button."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Tab
from tests.cast import CHENGBEI, HUAQIAO, Cast

pytestmark = pytest.mark.browser


def add_question(page, prompt: str, options: list[str] | None, correct: int, why: str) -> None:
    page.locator("#quiz-add").click()
    question = page.locator(".quiz-builder-question").last
    question.locator(".quiz-prompt").fill(prompt)
    if options is None:
        question.locator(".quiz-kind").select_option("true_false")
        question.locator(".quiz-truth input").nth(correct).check()
    else:
        for index, text in enumerate(options):
            question.locator(".quiz-option-text").nth(index).fill(text)
        question.locator(".quiz-correct").nth(correct).check()
    question.locator(".quiz-explanation-input").fill(why)


def test_a_trainer_publishes_a_quiz_a_clerk_fails_once_then_passes_and_the_manager_sees_it(
    open_tab, cast: Cast
) -> None:
    clerk: Tab = open_tab()
    clerk.enter("wangfang", f"/rooms/{cast.branch_room_ids[CHENGBEI]}")
    expect(clerk.page.locator("#notice-banner")).to_be_hidden()

    trainer: Tab = open_tab()
    trainer.enter("zhangwei")
    trainer.goto("/notices/new")
    page = trainer.page
    page.locator("#notice-title-input").fill("机顶盒收费新规")
    page.locator("#notice-body-input").fill("**自12月1日起**，无机顶盒用户按主终端收费。")
    page.get_by_label(CHENGBEI).check()
    page.get_by_label(HUAQIAO).check()
    due = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.locator("#notice-due").fill(due)
    add_question(
        page, "无机顶盒用户如何收费？", ["按主终端", "免收", "按副终端"], 0, "按主终端收费。"
    )
    add_question(page, "副终端可以单独停机。", None, 1, "副终端随主终端停机。")
    add_question(page, "新规何时生效？", ["12月1日", "1月1日"], 0, "12月1日零时起执行。")
    page.locator("#quiz-pass").fill("100")
    page.locator("#notice-publish").click()
    page.wait_for_url(re.compile(r"/notices/\d+/compliance$"))
    notice_id = int(page.url.rsplit("/", 2)[-2])
    expect(page.locator("#compliance-table tbody tr")).to_have_count(2)
    trainer.screenshot("notice-compliance-desktop.png")

    # The clerk's open room shows the banner at once, without a reload.
    banner = clerk.page.locator("#notice-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("机顶盒收费新规")
    clerk.screenshot("notice-banner-room.png")
    banner.get_by_role("link", name="机顶盒收费新规").click()
    clerk.page.wait_for_url(re.compile(rf"/notices/{notice_id}$"))
    quiz = clerk.page.locator(".quiz-question")
    expect(quiz).to_have_count(3)
    expect(clerk.page.locator(".notice-body strong")).to_have_text("自12月1日起")
    quiz.nth(0).get_by_label("按主终端").check()
    quiz.nth(1).get_by_label("对").check()  # wrong
    quiz.nth(2).get_by_label("12月1日").check()
    clerk.page.locator("#notice-submit").click()
    expect(clerk.page.locator("#notice-result")).to_contain_text("答对 2 / 3 题")
    expect(quiz.nth(1).locator(".quiz-explanation")).to_have_text("答错了。 副终端随主终端停机。")
    expect(quiz.nth(0).locator(".quiz-explanation")).to_be_hidden()
    clerk.screenshot("notice-quiz-explanation.png")
    quiz.nth(1).get_by_label("错").check()
    clerk.page.locator("#notice-submit").click()
    expect(clerk.page.locator("#notice-result")).to_contain_text("已通过")
    expect(quiz.nth(1).locator(".quiz-explanation")).to_be_hidden()
    clerk.goto(f"/rooms/{cast.branch_room_ids[CHENGBEI]}")
    clerk.wait_until_connected()
    expect(clerk.page.locator("#notice-list, #notice-banner")).to_be_hidden()

    manager: Tab = open_tab(viewport=PHONE)
    manager.enter("zhaomin")
    manager.goto(f"/notices/{notice_id}/compliance")
    rows = manager.page.locator("#compliance-table tbody tr")
    expect(rows).to_have_count(1)  # their branch only
    expect(rows.first.locator("th")).to_have_text(CHENGBEI)
    expect(rows.first.locator("td")).to_have_text(["2", "1", "1", "0"])
    chart = manager.page.locator("svg[role=img] .chart-row")
    expect(chart).to_have_count(1)
    expect(chart.first.locator(".chart-value")).to_have_text("1/2")
    assert float(chart.first.locator(".bar-done").get_attribute("width") or 0) > 0
    expect(manager.page.locator("#missing-people li")).to_have_text(["赵敏 (城北营业厅)"])
    manager.page.locator("#notice-remind").click()
    expect(manager.page.locator("#notice-remind-status")).to_have_text("已向 0 人发送提醒。")
    assert manager.horizontal_overflow() == 0
    manager.screenshot("notice-compliance-phone.png")


def test_the_inbox_lists_notices_to_acknowledge_first_and_the_form_fits_a_phone(
    open_tab, api_user, cast: Cast
) -> None:
    trainer = api_user("zhangwei")
    due = (datetime.now() + timedelta(days=2)).astimezone().isoformat()
    created = trainer.http.post(
        "/api/v1/notices",
        json={
            "title": "宽带提速公告",
            "body": "本周六起城北片区宽带提速。",
            "audience": {"branch_ids": [cast.branch_ids[CHENGBEI]]},
            "due_at": due,
        },
        headers={"X-CSRF-Token": trainer.csrf_token},
    )
    assert created.status_code == 201, created.text
    clerk: Tab = open_tab(viewport=PHONE)
    clerk.enter("wangfang")
    banner = clerk.page.locator("#notice-banner")
    expect(banner).to_contain_text("宽带提速公告")  # on the room page
    box = banner.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    clerk.screenshot("notice-banner-phone.png")
    clerk.goto("/inbox")
    section = clerk.page.locator("main #notice-banner")
    expect(section.get_by_role("heading")).to_have_text("待确认的通知")
    section.get_by_role("link", name="宽带提速公告").click()
    clerk.page.get_by_role("button", name="我已阅读并理解").click()
    expect(clerk.page.locator("#notice-result")).to_have_text("已确认，谢谢。")
    clerk.goto("/inbox")
    expect(clerk.page.locator("#inbox-list")).to_be_attached()
    expect(clerk.page.locator("#notice-banner")).to_be_hidden()

    publisher: Tab = open_tab(viewport=PHONE)
    publisher.enter("zhangwei")
    publisher.goto("/notices/new")
    publisher.page.locator("#quiz-add").click()
    expect(publisher.page.locator(".quiz-builder-question")).to_have_count(1)
    assert publisher.horizontal_overflow() == 0
    publisher.screenshot("notice-new-phone.png")
