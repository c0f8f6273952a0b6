"""Whatever anyone typed, in any name or message, is shown as typed and breaks no page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from counterline.config import Settings
from counterline.services import Services
from tests.browser.conftest import Tab
from tests.browser.seeding import run_in_thread
from tests.cast import Cast
from tests.support.hostile import HOSTILE_TEXTS, HostileRooms, seed_hostile, shown_text

pytestmark = pytest.mark.browser

# textContent, not innerText: the exact characters, line separators and all.
READ_PAGE = """() => {
  const texts = (selector) => [...document.querySelectorAll(selector)].map((n) => n.textContent);
  return {
    title: document.title,
    heading: document.getElementById("room-title").textContent,
    log_label: document.getElementById("messages").getAttribute("aria-label"),
    room_names: texts("#rooms-panel .room-name"),
    people: texts("#people-list .person .name"),
    people_branches: [...document.querySelectorAll("#people-list ul")]
      .map((list) => list.getAttribute("aria-label")),
    authors: texts("#messages .author"),
    branches: texts("#messages .branch"),
    bodies: texts("#messages .body"),
    stored_bodies: JSON.parse(document.getElementById("boot").textContent)
      .page.messages.map((message) => message.body),
  };
}"""


async def _seed(settings: Settings, room_id: int) -> HostileRooms:
    services = Services.from_settings(settings)
    try:
        return await seed_hostile(
            services, names=HOSTILE_TEXTS, bodies=HOSTILE_TEXTS, room_id=room_id, viewer="lina"
        )
    finally:
        await services.database.dispose()


def assert_whole(tab: Tab) -> None:
    expect(tab.composer).to_be_visible()
    expect(tab.page.locator("#rooms-panel .room-list").first).to_be_visible()
    expect(tab.page.locator("#people-list .person").first).to_be_visible()


def test_hostile_names_and_bodies_are_shown_as_typed_on_whole_pages(
    open_tab, server, cast: Cast
) -> None:
    rooms = run_in_thread(_seed(server.settings, cast.company_room_id))
    li: Tab = open_tab()
    dialogs: list[str] = []
    li.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    li.enter("lina", f"/rooms/{cast.company_room_id}")

    expect(li.messages).to_have_count(len(HOSTILE_TEXTS))
    expect(li.messages.last).to_be_in_viewport()
    assert_whole(li)
    seen = li.page.evaluate(READ_PAGE)
    assert seen["stored_bodies"] == HOSTILE_TEXTS
    assert seen["bodies"] == [shown_text(body) for body in HOSTILE_TEXTS]
    assert seen["authors"] == HOSTILE_TEXTS
    assert seen["branches"] == HOSTILE_TEXTS
    assert set(HOSTILE_TEXTS) <= set(seen["people"])
    assert set(HOSTILE_TEXTS) <= set(seen["people_branches"])
    assert sorted(seen["room_names"]) == sorted(
        ["全公司", "花桥营业厅", *rooms.joined, *rooms.joinable]
    )

    for name, room_id in rooms.joined.items():
        li.goto(f"/rooms/{room_id}")
        li.wait_until_connected()
        assert_whole(li)
        seen = li.page.evaluate(READ_PAGE)
        assert seen["heading"] == name
        # The title may start with the unread count of her other rooms: "(3) name · …".
        assert re.sub(r"^\(\d+\+?\) ", "", seen["title"]).startswith(f"{name} · ")
        assert name in seen["log_label"]
    assert dialogs == []
