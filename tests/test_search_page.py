"""The search page (GET /search): a form whose choices are the viewer's own rooms and
conversations and every branch; staff are offered exports; the room and inbox pages link to
it. What it finds is tested at the API (tests/test_search*.py) and in the
browser (tests/browser/test_search.py)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from counterline.services import Services
from tests.cast import CHENGBEI, HEAD_OFFICE, HUAQIAO, Cast
from tests.support.clients import Client
from tests.support.hostile import HOSTILE_TEXTS, seed_hostile

MARKUP = re.compile("[<>&\u2028\u2029]")


class _Options(HTMLParser):
    """The (value, text) of each <option> of one <select> or <datalist>, by its id, and the
    label of the <optgroup> each is in."""

    def __init__(self, list_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.list_id, self.inside, self.options = list_id, False, []
        self.group, self.groups = "", {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("select", "datalist") and found.get("id") == self.list_id:
            self.inside = True
        elif tag == "optgroup" and self.inside:
            self.group = found.get("label") or ""
        elif tag == "option" and self.inside:
            self.options.append([found.get("value") or "", found.get("label") or ""])
            self.groups[found.get("value") or ""] = self.group

    def handle_endtag(self, tag: str) -> None:
        if tag in ("select", "datalist"):
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside and self.options and data.strip():
            self.options[-1][1] += data.strip()


def options(page: str, list_id: str) -> dict[str, str]:
    parser = _Options(list_id)
    parser.feed(page)
    values = [value for value, _ in parser.options]
    assert len(values) == len(set(values)), f"{list_id} offers a choice twice: {values}"
    return {value: text for value, text in parser.options if value}


def option_groups(page: str, list_id: str) -> dict[str, str]:
    parser = _Options(list_id)
    parser.feed(page)
    return {value: group for value, group in parser.groups.items() if value}


def boot_of(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page, re.S)
    assert found, page[:500]
    assert not MARKUP.search(found.group(1)), MARKUP.findall(found.group(1))
    return json.loads(found.group(1))


async def search_page(client: Client, query: str = "") -> str:
    response = await client.http.get(f"/search{query}")
    assert response.status_code == 200, response.text[:500]
    assert "text/html" in response.headers["content-type"]
    return response.text


async def test_the_room_choice_lists_her_rooms_and_conversations_and_no_other_room(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    conversation = await wang.http.post(
        "/api/v1/conversations",
        json={"members": ["zhangwei"]},
        headers={"X-CSRF-Token": wang.csrf_token},
    )
    assert conversation.status_code in (200, 201), conversation.text
    page = await search_page(wang, "?q=资费&room=1")
    rooms = options(page, "filter-room")
    assert rooms == {
        str(cast.company_room_id): rooms[str(cast.company_room_id)],
        str(cast.branch_room_ids[CHENGBEI]): CHENGBEI,
        str(conversation.json()["id"]): "张伟",  # titled for her: the other person's name
    }
    assert str(cast.branch_room_ids[HUAQIAO]) not in rooms
    assert option_groups(page, "filter-room") == {
        str(cast.company_room_id): "房间",
        str(cast.branch_room_ids[CHENGBEI]): "房间",
        str(conversation.json()["id"]): "私信",
    }
    branches = options(page, "filter-branch")
    assert set(branches.values()) == {CHENGBEI, HUAQIAO, HEAD_OFFICE}
    # People are suggested when the author box is used (GET /api/v1/users), not embedded.
    assert options(page, "search-people") == {}


async def test_only_managers_and_admins_are_offered_the_export(login) -> None:
    offered = {}
    for username in ("wangfang", "zhangwei", "zhaomin", "chengang"):
        client = await login(username)
        offered[username] = boot_of(await search_page(client))["exports"]
    assert offered == {"wangfang": False, "zhangwei": False, "zhaomin": True, "chengang": True}


async def test_the_page_carries_the_strings_its_script_shows_in_her_language(login) -> None:
    wang = await login("wangfang")
    boot = boot_of(await search_page(wang))
    assert boot["strings"]["search_empty"] == "没有找到与“%(query)s”相关的消息。"
    assert boot["strings"]["error"]
    assert boot["me"]["username"] == "wangfang"


async def test_hostile_room_branch_and_people_names_stay_text(
    login, services: Services, cast: Cast
) -> None:
    names = HOSTILE_TEXTS[:4]
    rooms = await seed_hostile(
        services, names=names, bodies=[], room_id=cast.company_room_id, viewer="lina"
    )
    li = await login("lina")
    page = await search_page(li)
    boot_of(page)
    assert "<script>alert(1)" not in page
    shown = options(page, "filter-room")
    assert set(rooms.joined) <= set(shown.values())
    assert not set(rooms.joinable) & set(shown.values())
    assert set(names) <= set(options(page, "filter-branch").values())


async def test_the_room_and_inbox_pages_link_to_search(login, cast: Cast) -> None:
    wang = await login("wangfang")
    for path in (f"/rooms/{cast.company_room_id}", "/inbox"):
        page = await wang.http.get(path)
        assert page.status_code == 200
        assert re.search(r'<a class="inbox-link search-link" href="/search">', page.text), path
