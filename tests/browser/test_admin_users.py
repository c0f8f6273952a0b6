"""The users console in a browser: an administrator imports 200 users from a CSV file with
3 bad rows: the preview marks them, the other 197 are imported while the progress bar
fills, and the one-time passwords are offered for download; the console fits a phone."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Tab
from tests.cast import CHENGBEI, HUAQIAO, Cast

pytestmark = pytest.mark.browser


def two_hundred_rows() -> bytes:
    """200 users, GBK as old Excel saves it, Chinese headers; lines 51, 102 and 153 bad."""
    lines = ["用户名,姓名,营业厅,角色"]
    for n in range(200):
        branch = CHENGBEI if n % 2 else HUAQIAO
        lines.append(f"import{n:03d},导入员工{n},{branch},柜员")
    lines[50] = "import048,重复的用户名,城北营业厅,柜员"  # line 51: username of line 50
    lines[101] = "import100,不存在的营业厅,城南营业厅,柜员"  # line 102: no such branch
    lines[152] = "import151,角色不对,城北营业厅,老板"  # line 153: no such role
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def test_admin_imports_200_users_with_3_bad_rows_and_watches_the_progress(
    open_tab, cast: Cast
) -> None:
    admin: Tab = open_tab()
    admin.enter("chengang")
    admin.goto("/admin/users/import")
    page = admin.page
    page.set_input_files(
        "#import-file",
        files=[{"name": "员工.csv", "mimeType": "text/csv", "buffer": two_hundred_rows()}],
    )
    page.locator("#preview-button").click()
    preview = page.locator("#preview-table tbody tr")
    expect(preview).to_have_count(200)
    bad = page.locator("#preview-table tbody tr.bad")
    expect(bad).to_have_count(3)
    assert [row.locator("td").first.inner_text() for row in bad.all()] == ["51", "102", "153"]
    expect(bad.nth(1)).to_contain_text("城南营业厅")
    expect(page.locator("#preview-summary")).to_contain_text("197")

    page.locator("#import-button").click()
    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=180_000)
    expect(page.locator("#import-summary")).to_contain_text("197")
    expect(page.locator("#import-errors li")).to_have_count(3)
    with page.expect_download() as downloading:
        page.locator("#passwords-link").click()
    text = Path(downloading.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 197 and all(len(row["one_time_password"]) == 14 for row in rows)
    expect(page.locator("#passwords-link")).to_be_hidden()

    admin.goto("/admin/users?q=import")
    expect(page.locator("#users-count")).to_contain_text("197")


def test_the_users_console_fits_a_phone_and_shows_a_reset_password_once(
    open_tab, cast: Cast
) -> None:
    admin: Tab = open_tab(viewport=PHONE)
    admin.enter("chengang")
    admin.goto("/admin/users")
    page = admin.page
    # The console's content fits (its table scrolls in its own box); the shared top bar is
    # the top bar's business.
    main = page.evaluate(
        "(() => { const m = document.querySelector('.console-main');"
        " return [m.getBoundingClientRect().right, m.scrollWidth - m.clientWidth]; })()"
    )
    assert main[0] <= PHONE["width"] and main[1] == 0
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("#users-table tr", has_text="wangfang")
    row.get_by_role("button", name="重置密码").click()
    dialog = page.locator("#password-dialog")
    expect(dialog).to_be_visible()
    assert len(page.locator("#password-value").inner_text()) == 14
    page.locator("#password-close").press("Enter")  # the keyboard closes it too
    expect(page.locator("#users-table tr", has_text="wangfang")).to_contain_text("一次性密码")
