"""The room page's "Export record" dialog: a manager picks a format and days and downloads
the file through a plain link; a clerk has no such control."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.browser.seeding import post_history
from tests.cast import CHENGBEI, Cast

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_manager_downloads_a_date_range_of_the_room_as_csv_from_the_dialog(
    open_tab, server, cast: Cast
) -> None:
    room = cast.branch_room_ids[CHENGBEI]
    today = datetime.now(SHANGHAI).date()
    days = [today - timedelta(days=ago) for ago in (3, 2, 1)]
    post_history(
        server.settings,
        room,
        "wangfang",
        [(f"{day.isoformat()} 的交接", datetime.combine(day, time(9), SHANGHAI)) for day in days],
    )
    manager: Tab = open_tab()
    manager.enter("zhaomin", f"/rooms/{room}")
    page = manager.page
    page.locator("#record-export").click()
    dialog = page.locator("#record-export-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("CSV").check()
    page.locator("#record-export-from").fill(days[2].isoformat())
    page.locator("#record-export-to").fill(days[0].isoformat())
    expect(page.locator("#record-export-error")).to_be_visible()
    page.locator("#record-export-from").fill(days[1].isoformat())
    page.locator("#record-export-to").fill(days[2].isoformat())
    expect(page.locator("#record-export-error")).to_be_hidden()
    with page.expect_download() as downloading:
        page.locator("#record-export-download").click()
    download = downloading.value
    assert download.suggested_filename == f"{CHENGBEI}-{today.isoformat()}.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[7] for row in rows[1:]] == [f"{day.isoformat()} 的交接" for day in days[1:]]
    expect(dialog).to_be_hidden()
    expect(page.locator("#record-export")).to_be_focused()


def test_clerk_sees_no_export_control(open_tab, cast: Cast) -> None:
    clerk: Tab = open_tab()
    clerk.enter("wangfang", f"/rooms/{cast.branch_room_ids[CHENGBEI]}")
    expect(clerk.page.locator("#record-export")).to_have_count(0)
    expect(clerk.page.locator("#record-export-dialog")).to_have_count(0)
