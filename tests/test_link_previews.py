"""Link previews: the server fetches titles of intranet pages, only for configured hosts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.clients import Client
from tests.support.intranet import IntranetSite
from tests.support.live import LiveServer


@pytest.fixture
def intranet() -> Iterator[IntranetSite]:
    site = IntranetSite()
    yield site
    site.stop()


@pytest.fixture
def previewing_server(
    start_server: Callable[..., LiveServer], intranet: IntranetSite
) -> LiveServer:
    return start_server(link_preview_hosts=["127.0.0.1"])


async def preview(client: Any, url: str) -> Any:
    return await client.http.get("/api/v1/link-preview", params={"url": url})


async def test_title_of_a_configured_intranet_page_in_its_own_charset(
    previewing_server: LiveServer, sign_in: Callable[..., Any], intranet: IntranetSite
) -> None:
    clerk = await sign_in(previewing_server, "wangfang")

    gbk = await preview(clerk, f"{intranet.url}/gbk")
    utf8 = await preview(clerk, f"{intranet.url}/utf8")

    assert gbk.status_code == 200, gbk.text
    assert gbk.json() == {"url": f"{intranet.url}/gbk", "title": "营业厅 业务系统"}
    assert utf8.json()["title"] == "资费 & 套餐 查询"


async def test_an_address_asked_twice_is_fetched_once(
    previewing_server: LiveServer, sign_in: Callable[..., Any], intranet: IntranetSite
) -> None:
    clerk = await sign_in(previewing_server, "wangfang")
    for _ in range(3):
        assert (await preview(clerk, f"{intranet.url}/gbk")).json()["title"]
    assert intranet.requested == ["/gbk"]


async def test_other_hosts_are_never_requested(
    previewing_server: LiveServer, sign_in: Callable[..., Any], intranet: IntranetSite
) -> None:
    clerk = await sign_in(previewing_server, "wangfang")
    elsewhere = f"http://localhost:{intranet.server.server_port}/gbk"
    refused = [
        await preview(clerk, elsewhere),
        await preview(clerk, f"file:///{intranet.url}/gbk"),
        await preview(clerk, "javascript:alert(1)"),
    ]
    assert [answer.status_code for answer in refused] == [404, 404, 404]
    assert "error" in refused[0].json()
    assert intranet.requested == []


async def test_redirects_and_non_pages_give_no_title(
    previewing_server: LiveServer, sign_in: Callable[..., Any], intranet: IntranetSite
) -> None:
    clerk = await sign_in(previewing_server, "wangfang")
    moved = await preview(clerk, f"{intranet.url}/moved")
    pdf = await preview(clerk, f"{intranet.url}/pdf")
    missing = await preview(clerk, f"{intranet.url}/missing")
    assert [moved.json()["title"], pdf.json()["title"], missing.json()["title"]] == [None] * 3
    assert intranet.requested == ["/moved", "/pdf", "/missing"]


async def test_without_configured_hosts_there_are_no_previews(
    server: LiveServer, login: Callable[..., Any], intranet: IntranetSite
) -> None:
    clerk = await login("wangfang")
    assert (await preview(clerk, f"{intranet.url}/gbk")).status_code == 404
    assert intranet.requested == []


async def test_previews_need_a_login(previewing_server: LiveServer, intranet: IntranetSite) -> None:
    stranger = Client(previewing_server.url)
    try:
        assert (await preview(stranger, f"{intranet.url}/gbk")).status_code == 401
    finally:
        await stranger.close()
    assert intranet.requested == []
