"""Reading back: the latest page, older pages on scrolling up, going to a date and back."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.browser.seeding import post_history
from tests.cast import Cast

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def seed_three_days(server, cast: Cast) -> date:
    """120 messages by 张伟: numbers 1-40 three days ago, 41-80 two days ago, 81-120 yesterday."""
    today = datetime.now(SHANGHAI).date()
    items = []
    for number in range(1, 121):
        day = today - timedelta(days=3 - (number - 1) // 40)
        at = datetime.combine(day, time(9, 0), tzinfo=SHANGHAI) + timedelta(minutes=number)
        items.append((f"培训要点 第{number}条", at))
    post_history(server.settings, cast.company_room_id, "zhangwei", items)
    return today


def numbers(tab: Tab) -> list[int]:
    return [int(body.split("第")[1].rstrip("条")) for body in tab.message_bodies() if "第" in body]


def test_room_opens_on_the_latest_fifty_and_scrolling_up_loads_back_to_the_start(
    open_tab, server, cast: Cast
) -> None:
    seed_three_days(server, cast)
    wang: Tab = open_tab()
    wang.enter("wangfang")
    expect(wang.messages).to_have_count(50)
    assert numbers(wang) == list(range(71, 121))
    expect(wang.messages.last).to_be_in_viewport()

    timeline = wang.page.locator("#timeline")
    for expected in (100, 120):
        timeline.evaluate("(element) => { element.scrollTop = 0; }")
        expect(wang.messages).to_have_count(expected)
    assert numbers(wang) == list(range(1, 121))
    older = wang.page.locator("#load-older")
    expect(older).to_be_disabled()
    expect(older).to_have_text(wang.string("no_older"))
    assert wang.page.locator(".day-divider:visible").count() == 3


def test_go_to_date_shows_that_day_and_back_to_latest_returns(open_tab, server, cast: Cast) -> None:
    today = seed_three_days(server, cast)
    wang: Tab = open_tab()
    wang.enter("wangfang")
    expect(wang.messages).to_have_count(50)

    two_days_ago = today - timedelta(days=2)
    wang.page.locator("#jump-date").fill(two_days_ago.isoformat())
    wang.page.locator("#jump-form button[type=submit]").click()
    first_of_day = wang.messages.filter(has_text="培训要点 第41条")
    expect(first_of_day).to_be_in_viewport()
    expect(first_of_day.locator(".day-divider")).to_be_visible()
    expect(wang.messages.filter(has_text="培训要点 第120条")).to_have_count(0)
    latest = wang.page.locator("#back-to-latest")
    expect(latest).to_be_visible()

    latest.click()
    expect(latest).to_be_hidden()
    newest = wang.messages.filter(has_text="培训要点 第120条")
    expect(newest).to_be_in_viewport()
    expect(wang.messages).to_have_count(50)
    assert numbers(wang) == list(range(71, 121))


def test_live_message_arriving_while_reading_old_pages_waits_for_back_to_latest(
    open_tab, api_user, server, cast: Cast
) -> None:
    today = seed_three_days(server, cast)
    wang: Tab = open_tab()
    wang.enter("wangfang")
    wang.page.locator("#jump-date").fill((today - timedelta(days=3)).isoformat())
    wang.page.locator("#jump-form button[type=submit]").click()
    expect(wang.messages.filter(has_text="培训要点 第1条")).to_be_in_viewport()

    api_user("lina").post(cast.company_room_id, "今天的新问题")
    wang.page.wait_for_timeout(300)
    expect(wang.messages.filter(has_text="今天的新问题")).to_have_count(0)
    wang.page.locator("#back-to-latest").click()
    expect(wang.messages.filter(has_text="今天的新问题")).to_be_in_viewport()
    assert numbers(wang)[-1] == 120 and wang.message_bodies()[-1] == "今天的新问题"
