"""A notice's pictures in the browser: a trainer attaches a picture (and a file she then
removes) in the publishing form; a clerk of the audience sees the picture on the notice page
and opens it full size."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import Tab
from tests.cast import CHENGBEI

pytestmark = pytest.mark.browser


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 110, 190)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_trainer_attaches_a_picture_in_the_publishing_form_and_a_clerk_sees_it(
    open_tab,
) -> None:
    trainer: Tab = open_tab()
    trainer.enter("zhangwei")
    trainer.goto("/notices/new")
    page = trainer.page
    page.locator("#notice-title-input").fill("新版受理单")
    page.locator("#notice-body-input").fill("请按附图填写。")
    page.get_by_label(CHENGBEI).check()
    page.locator("#notice-due").fill(
        (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    )
    files = page.locator("#notice-file")
    files.set_input_files(
        [{"name": "受理单.png", "mimeType": "image/png", "buffer": png(900, 600)}]
    )
    files.set_input_files([{"name": "草稿.txt", "mimeType": "text/plain", "buffer": b"draft"}])
    tray = page.locator("#notice-tray")
    expect(tray.locator(".tray-item.done")).to_have_count(2)
    tray.get_by_role("button", name="移除 草稿.txt").click()  # removed before publishing
    expect(tray.locator(".tray-item")).to_have_count(1)
    page.locator("#notice-publish").click()
    page.wait_for_url(re.compile(r"/notices/\d+/compliance$"))
    notice_id = int(page.url.rsplit("/", 2)[-2])

    clerk: Tab = open_tab()
    clerk.enter("wangfang")
    clerk.goto(f"/notices/{notice_id}")
    shown = clerk.page.locator("#notice-attachments")
    expect(shown.locator(".file-card")).to_have_count(0)
    picture = shown.get_by_role("link", name="查看大图 受理单.png")
    img = picture.locator("img")
    expect(img).to_have_attribute("width", "400")
    clerk.page.wait_for_function(
        "() => document.querySelector('#notice-attachments img').naturalWidth > 0"
    )
    picture.click()
    lightbox = clerk.page.locator("dialog.lightbox")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator("img")).to_have_attribute("src", re.compile(r"/content$"))
    clerk.page.wait_for_function(
        "() => document.querySelector('dialog.lightbox img').naturalWidth === 900"
    )
    clerk.page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    expect(picture).to_be_focused()
