"""Issue 12 in the browser: a clerk searches in Chinese from the search page, sees the word
highlighted, narrows with a filter control, goes back and forward through her searches, and
opens a result at its place in the room. A query the server cannot read says why next to the
box; nothing found says what to try; managers export what they found; on a phone the filters
fold away. The page asks the real search API of a live server (GET /api/v1/search)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, ApiUser, Tab
from tests.browser.seeding import post_history
from tests.browser.test_rich_messages import png, post_with, upload
from tests.cast import CHENGBEI, HUAQIAO, Cast

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def seed_talk(api_user, cast: Cast) -> dict[str, dict[str, Any]]:
    """Four messages, three of them about 资费 (tariffs), in 王芳's two rooms, oldest first."""
    trainer: ApiUser = api_user("zhangwei")
    manager: ApiUser = api_user("zhaomin")
    clerk: ApiUser = api_user("lina")
    company, branch = cast.company_room_id, cast.branch_room_ids[CHENGBEI]
    sheet = upload(trainer, "新资费对照表.csv", "套餐,月费\nA,15\nB,10\n".encode(), "text/csv")
    poster = upload(trainer, "柜台海报.png", png(320, 200), "image/png")
    return {
        "training": post_with(
            trainer,
            company,
            "下周一的资费调整培训改到下午两点，对照表和海报见附件，请各营业厅安排好人手。",
            [sheet["id"], poster["id"]],
        ),
        "printer": clerk.post(company, "花桥这边打印机又卡纸了，编号 B1E-0D7，已报修。"),
        "question": clerk.post(company, "请问老人优惠套餐的资费从哪天开始执行？"),
        "branch": manager.post(branch, "新资费单已经到了，今天下班前贴到柜台，贴好拍照发群里。"),
    }


def query_of(tab: Tab) -> dict[str, list[str]]:
    return parse_qs(urlsplit(tab.page.url).query)


def results(tab: Tab) -> Any:
    return tab.page.locator("#search-results > li.result")


def search_for(tab: Tab, words: str) -> None:
    box = tab.page.locator("#search-q")
    box.fill(words)
    box.press("Enter")


def test_a_clerk_finds_a_chinese_word_highlighted_narrows_it_and_opens_it_in_its_room(
    open_tab, api_user, cast: Cast
) -> None:
    talk = seed_talk(api_user, cast)
    branch_room = cast.branch_room_ids[CHENGBEI]
    wang: Tab = open_tab()
    wang.enter("wangfang")
    wang.page.locator("header a.search-link").click()
    wang.page.wait_for_url(re.compile(r"/search$"))
    expect(wang.page.locator("#search-intro")).to_be_visible()

    search_for(wang, "资费")
    wang.page.wait_for_url(re.compile(r"/search\?q="))
    assert query_of(wang) == {"q": ["资费"]}
    found = results(wang)
    expect(found).to_have_count(3)
    expect(wang.page.locator("#search-status")).to_contain_text("3")
    # Newest first: where, who, which branch, when; the word marked inside its sentence.
    newest = found.nth(0)
    expect(newest).to_contain_text(CHENGBEI)
    expect(newest.locator(".result-author")).to_have_text("赵敏")
    expect(newest.locator(".result-snippet")).to_contain_text("新资费单已经到了")
    expect(newest.locator("mark").first).to_have_text("资费")
    expect(found.nth(1).locator(".result-author")).to_have_text("李娜")
    expect(found.nth(1).locator(".result-branch")).to_have_text(HUAQIAO)
    oldest = found.nth(2)
    expect(oldest.locator(".result-files li")).to_have_count(2)
    expect(oldest.locator(".result-files")).to_contain_text("新资费对照表.csv")
    expect(oldest.locator(".result-files")).to_contain_text("柜台海报.png")
    expect(oldest.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    # Only text and <mark> reach the page from the snippets.
    tags = wang.page.evaluate(
        "() => [...document.querySelectorAll('.result-snippet *')].map((node) => node.tagName)"
    )
    assert tags and set(tags) == {"MARK"}, tags
    expect(wang.page.locator("#search-export")).to_be_hidden()  # clerks export nothing

    # A filter control narrows at once, and the address says so.
    wang.page.locator("#filter-room").select_option(str(branch_room))
    expect(found).to_have_count(1)
    assert query_of(wang) == {"q": ["资费"], "room": [str(branch_room)]}
    expect(wang.page.locator("#filters-clear")).to_be_visible()
    wang.page.locator("#filter-has").select_option("file")
    expect(wang.page.locator("#search-empty")).to_be_visible()
    wang.page.go_back()
    expect(found).to_have_count(1)
    expect(wang.page.locator("#filter-has")).to_have_value("")
    wang.page.go_back()
    expect(found).to_have_count(3)
    expect(wang.page.locator("#filter-room")).to_have_value("")
    expect(wang.page.locator("#search-q")).to_have_value("资费")
    wang.page.go_forward()
    expect(found).to_have_count(1)
    expect(wang.page.locator("#filter-room")).to_have_value(str(branch_room))

    # A result is a link: focused and opened from the keyboard, it shows the message there.
    link = found.nth(0).locator("a.result-link")
    link.focus()
    link.press("Enter")
    message_id = talk["branch"]["id"]
    wang.page.wait_for_url(re.compile(rf"/rooms/{branch_room}\?at={message_id}$"))
    wang.wait_until_connected()
    target = wang.page.locator(f"#messages [data-message-id='{message_id}']")
    expect(target).to_have_class(re.compile(r"\btarget\b"))
    expect(target).to_be_in_viewport()
    expect(target).to_contain_text("新资费单已经到了")


def test_a_code_and_the_query_syntax_find_the_same_as_the_controls(
    open_tab, api_user, cast: Cast
) -> None:
    talk = seed_talk(api_user, cast)
    wang: Tab = open_tab()
    wang.enter("wangfang")
    wang.goto("/search?q=b1e-0d7")
    found = results(wang)
    expect(found).to_have_count(1)
    expect(found.nth(0).locator("mark")).to_have_text("B1E-0D7")
    expect(found.nth(0).locator("a")).to_have_attribute(
        "href", f"/rooms/{cast.company_room_id}?at={talk['printer']['id']}"
    )
    # from: in the box, and the author control with a display name, find the same messages.
    search_for(wang, "资费 from:李娜")
    expect(found).to_have_count(1)
    expect(found.nth(0)).to_contain_text("老人优惠套餐")
    search_for(wang, "资费")
    expect(found).to_have_count(3)
    author = wang.page.locator("#filter-author")
    author.focus()  # her colleagues are suggested
    suggestions = wang.page.locator("#search-people option")
    expect(suggestions).to_have_count(6)
    expect(wang.page.locator("#search-people option[value='lina']")).to_have_attribute(
        "label", f"李娜 · {HUAQIAO}"
    )
    author.fill("李娜")
    author.press("Enter")
    expect(found).to_have_count(1)
    assert query_of(wang)["author"] == ["李娜"]
    author.fill("lina")
    author.press("Enter")
    expect(found).to_have_count(1)
    expect(found.nth(0)).to_contain_text("老人优惠套餐")
    # The syntax help adds a filter to the box.
    wang.page.locator("#search-syntax summary").click()
    wang.page.locator(".syntax-token[data-insert='has:picture']").click()
    expect(wang.page.locator("#search-q")).to_have_value("资费 has:picture")


def test_a_bad_query_says_why_beside_the_box_and_nothing_found_says_what_to_try(
    open_tab, api_user, cast: Cast
) -> None:
    seed_talk(api_user, cast)
    wang: Tab = open_tab()
    wang.expect_console_error("400")  # the browser logs the refused request
    wang.enter("wangfang")
    wang.goto("/search")
    search_for(wang, "资费 after:2026-13-45")
    error = wang.page.locator("#search-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("2026-13-45")
    expect(wang.page.locator("#search-q")).to_have_attribute("aria-invalid", "true")
    expect(results(wang)).to_have_count(0)
    wang.screenshot("search-error.png")

    search_for(wang, "资费 after:2026-01-01")
    expect(error).to_be_hidden()
    expect(wang.page.locator("#search-q")).not_to_have_attribute("aria-invalid", "true")

    search_for(wang, "邮政编码")
    empty = wang.page.locator("#search-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("没有找到与“邮政编码”相关的消息")
    expect(empty.locator("li")).to_have_count(3)
    expect(wang.page.locator("#empty-clear-filters")).to_be_hidden()
    search_for(wang, "资费")
    expect(results(wang)).to_have_count(3)
    wang.page.locator("#filter-mentions-me").check()
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("没有找到")
    wang.page.locator("#empty-clear-filters").click()
    expect(results(wang)).to_have_count(3)
    expect(wang.page.locator("#filter-mentions-me")).not_to_be_checked()
    expect(wang.page.locator("#search-q")).to_be_focused()


def test_a_manager_pages_through_older_results_and_exports_the_same_search(
    open_tab, api_user, server, cast: Cast
) -> None:
    seed_talk(api_user, cast)
    day = datetime.now(SHANGHAI).date() - timedelta(days=3)
    start = datetime.combine(day, time(10, 0), tzinfo=SHANGHAI)
    post_history(
        server.settings,
        cast.branch_room_ids[CHENGBEI],
        "zhaomin",
        [
            (f"月底盘点第{number}组：柜台现金和空白凭证。", start + timedelta(minutes=number))
            for number in range(1, 26)
        ],
    )
    zhao: Tab = open_tab()
    zhao.enter("zhaomin")
    zhao.goto("/search?q=盘点")
    found = results(zhao)
    expect(found).to_have_count(20)
    expect(found.nth(0)).to_contain_text("第25组")
    more = zhao.page.locator("#search-more")
    more.click()
    expect(found).to_have_count(25)
    expect(found.nth(24)).to_contain_text("第1组")
    expect(more).to_be_hidden()
    expect(found.nth(20).locator("a")).to_be_focused()  # the first new one, for the keyboard

    exports = zhao.page.locator("#search-export a")
    expect(exports).to_have_count(3)
    zhao.page.locator("#filter-branch").select_option(str(cast.branch_ids[CHENGBEI]))
    expect(found).to_have_count(20)
    href = exports.first.get_attribute("href") or ""
    assert href.startswith("/api/v1/search/export?")
    assert parse_qs(urlsplit(href).query) == {
        "q": ["盘点"],
        "branch": [str(cast.branch_ids[CHENGBEI])],
        "format": ["csv"],
    }
    assert [link.text_content() for link in exports.all()] == ["CSV", "XLSX", "JSON"]

    # The dates include the day chosen as the last one (the API's before excludes its day).
    zhao.page.locator("#filter-before").fill(day.isoformat())
    expect(zhao.page.locator("#search-status")).to_contain_text("20")
    assert query_of(zhao)["before"] == [(day + timedelta(days=1)).isoformat()]
    zhao.page.locator("#filter-before").fill((day - timedelta(days=1)).isoformat())
    expect(zhao.page.locator("#search-empty")).to_be_visible()
    zhao.page.locator("#filter-before").fill("")
    expect(found).to_have_count(20)

    search_for(zhao, "资费")
    expect(found).to_have_count(1)  # the branch filter stays: her own message
    zhao.page.locator("#filters-clear").click()
    expect(found).to_have_count(3)
    zhao.screenshot("search-desktop.png")


def test_on_a_phone_the_filters_fold_away_and_nothing_overflows(
    open_tab, api_user, cast: Cast
) -> None:
    seed_talk(api_user, cast)
    wang: Tab = open_tab(viewport=PHONE)
    wang.enter("wangfang")
    wang.page.locator("header a.search-link").click()
    wang.page.wait_for_url(re.compile(r"/search$"))
    search_for(wang, "资费")
    expect(results(wang)).to_have_count(3)
    panel = wang.page.locator("#search-filters")
    toggle = wang.page.locator("#filters-toggle")
    expect(panel).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_visible()
    wang.page.locator("#filter-branch").select_option(str(cast.branch_ids[HUAQIAO]))
    expect(results(wang)).to_have_count(1)
    expect(wang.page.locator("#filters-count")).to_have_text("1")
    assert wang.horizontal_overflow() == 0
    toggle.click()
    expect(panel).to_be_hidden()
    wang.page.locator("#filters-clear").click()
    expect(results(wang)).to_have_count(3)
    assert wang.horizontal_overflow() == 0
    wang.screenshot("search-phone.png")


def test_markup_in_a_message_or_a_snippet_shows_as_text(open_tab, api_user, cast: Cast) -> None:
    clerk: ApiUser = api_user("lina")
    hostile = '<img src=x onerror="window.__pwned=1">资费<b>加粗</b></mark><script>1</script>'
    clerk.post(cast.company_room_id, hostile)
    wang: Tab = open_tab()
    wang.enter("wangfang")
    wang.goto("/search?q=资费")
    snippet = results(wang).nth(0).locator(".result-snippet")
    expect(snippet).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(snippet.locator("mark")).to_have_text("资费")
    assert snippet.locator("img, b, script").count() == 0
    # Whatever the server sent, only text and text-only <mark>s are built.
    built = wang.page.evaluate(
        """async () => {
          const { snippetNodes } = await import("/static/js/search_snippet.js");
          const box = document.createElement("p");
          box.append(...snippetNodes(
            '<img src=x>a<mark class=x title=t><b>b</b></mark><script>window.__pwned=3</script>'
            + '<svg><mark>c</mark></svg><a href="/x">d</a>'));
          return box.innerHTML;
        }"""
    )
    assert built == "a<mark>b</mark>window.__pwned=3cd", built
    assert wang.page.evaluate("window.__pwned") is None
