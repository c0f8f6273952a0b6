"""A link to a configured intranet system shows the page's title under it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from tests.cast import Cast
from tests.support.intranet import IntranetSite
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def intranet() -> Iterator[IntranetSite]:
    site = IntranetSite()
    yield site
    site.stop()


@pytest.fixture
def server(start_server: Callable[..., LiveServer], intranet: IntranetSite) -> LiveServer:
    return start_server(link_preview_hosts=["127.0.0.1"])


def test_intranet_link_shows_its_page_title_and_other_links_do_not(
    open_tab, api_user, cast: Cast, intranet: IntranetSite
) -> None:
    trainer = api_user("zhangwei")
    trainer.post(cast.company_room_id, f"新系统入口 {intranet.url}/gbk 请收藏")
    trainer.post(cast.company_room_id, "外网 https://www.example.com/ 不预览")
    clerk = open_tab()
    clerk.enter("lina")

    first, second = clerk.messages.nth(-2), clerk.messages.last
    expect(first.locator(".link-preview")).to_have_text("营业厅 业务系统")
    expect(first.locator(".body a")).to_have_text(f"{intranet.url}/gbk")
    expect(second.locator(".body a")).to_have_text("https://www.example.com/")
    assert second.locator(".link-preview").count() == 0
    assert intranet.requested == ["/gbk"]
