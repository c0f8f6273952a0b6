"""Issue 14's "one answer for every branch" in the browser: a clerk of 城北 marks her message
in the company room as a question from its menu; a trainer accepts his reply as the answer
from the reply's menu; her tab shows it answered at once; a clerk of 花桥 who starts typing
the same question is offered the FAQ entry over her composer, and the FAQ page lists it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.cast import Cast

pytestmark = pytest.mark.browser


def open_menu_item(tab: Tab, message, item: str) -> None:
    message.hover()
    message.locator(".actions-toggle").click()
    tab.page.get_by_role("menuitem", name=tab.string(item)).click()


def test_a_question_answered_for_one_branch_is_offered_to_a_clerk_of_another_as_she_types(
    open_tab, cast: Cast
) -> None:
    room = f"/rooms/{cast.company_room_id}"
    asker: Tab = open_tab()
    asker.enter("wangfang", room)
    asker.send("宽带移机需要带什么材料？身份证复印件可以吗")
    asker.expect_all_sent()
    question_id = asker.messages.last.get_attribute("data-message-id")
    question = asker.page.locator(f'#messages > li.message[data-message-id="{question_id}"]')
    open_menu_item(asker, question, "mark_question")
    expect(question.locator(".question-mark")).to_have_text(asker.string("question_open"))

    trainer: Tab = open_tab()
    trainer.enter("zhangwei", room)
    expect(trainer.messages.last.locator(".question-mark")).to_be_visible()
    trainer.send("移机要带**身份证原件**，复印件不行。")
    trainer.expect_all_sent()
    open_menu_item(trainer, trainer.messages.last, "accept_answer")
    dialog = trainer.page.locator(".accept-dialog")
    expect(dialog.locator("#accept-question")).to_contain_text("宽带移机需要带什么材料")
    dialog.locator("#accept-topic").fill("宽带")
    trainer.screenshot("faq-accept-answer.png")
    dialog.get_by_role("button", name=trainer.string("accept_submit")).click()
    expect(dialog).to_be_hidden()

    # The asker's tab learns it live: her question is answered and links to the entry.
    mark = question.locator(".question-mark")
    expect(mark).to_have_text(asker.string("question_answered"))
    expect(mark).to_have_attribute("href", "/faq/1")
    expect(asker.messages.last.locator(".question-mark")).to_have_text(
        asker.string("accepted_answer")
    )

    other: Tab = open_tab()
    other.enter("lina", room)
    other.composer.press_sequentially("请问宽带移机要带哪些材料", delay=20)
    offered = other.page.locator("#faq-suggestions")
    expect(offered).to_be_visible()
    link = offered.get_by_role("link", name="宽带移机需要带什么材料？身份证复印件可以吗")
    expect(link).to_have_attribute("href", "/faq/1")
    other.screenshot("faq-suggestion-composer.png")
    other.composer.fill("")
    expect(offered).to_be_hidden()

    other.goto("/faq")
    entry = other.page.locator(".faq-topic", has_text="宽带")
    expect(entry.locator(".faq-question")).to_have_text(
        "宽带移机需要带什么材料？身份证复印件可以吗"
    )
    entry.locator(".faq-question").click()
    expect(other.page.locator(".faq-answer strong")).to_have_text("身份证原件")
    other.screenshot("faq-entry.png")
