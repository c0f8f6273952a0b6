"""Notices on the search page, in the browser: a clerk's search lists the notice with the
words above the messages, its words marked, and opens it; a new search without it empties
the section, and going back shows it again (search.js rebuilding #search-documents from the
API's ``documents``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.browser.test_search import search_for
from tests.cast import CHENGBEI, Cast

pytestmark = pytest.mark.browser


def test_a_clerk_finds_a_notice_above_the_messages_and_opens_it(
    open_tab, api_user, cast: Cast
) -> None:
    trainer = api_user("zhangwei")
    created = trainer.http.post(
        "/api/v1/notices",
        json={
            "title": "宽带移机新规",
            "body": "宽带移机须核验机主身份证原件。",
            "audience": {"branch_ids": [cast.branch_ids[CHENGBEI]]},
            "due_at": (datetime.now() + timedelta(days=2)).astimezone().isoformat(),
        },
        headers={"X-CSRF-Token": trainer.csrf_token},
    )
    assert created.status_code == 201, created.text
    notice_id = created.json()["id"]
    api_user("lina").post(cast.company_room_id, "客户没带身份证能办移机吗？")
    wang: Tab = open_tab()
    wang.enter("wangfang")
    wang.goto("/search")
    documents = wang.page.locator("#search-documents")
    expect(documents).to_be_hidden()

    search_for(wang, "身份证")
    section = documents.locator('section[data-kind="notice"]')
    # 公告 (its English msgid until the catalogue has its translation)
    expect(section.get_by_role("heading")).to_have_text("通知")
    link = section.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", f"/notices/{notice_id}")
    expect(link.locator(".document-title")).to_have_text("宽带移机新规")
    expect(link.locator("mark")).to_have_text("身份证")
    expect(wang.page.locator("#search-results > li.result")).to_have_count(1)

    search_for(wang, "核验")  # the notice only: not "nothing found"
    expect(section.get_by_role("link")).to_have_count(1)
    expect(wang.page.locator("#search-results > li.result")).to_have_count(0)
    expect(wang.page.locator("#search-empty")).to_be_hidden()
    search_for(wang, "打印机")  # neither notice nor message
    expect(documents).to_be_hidden()
    expect(wang.page.locator("#search-empty")).to_be_visible()
    wang.page.go_back()
    expect(section.get_by_role("link")).to_have_count(1)
    expect(wang.page.locator("#search-empty")).to_be_hidden()
    expect(section.locator("mark")).to_have_text("核验")
    section.get_by_role("link").click()
    wang.page.wait_for_url(re.compile(rf"/notices/{notice_id}$"))
