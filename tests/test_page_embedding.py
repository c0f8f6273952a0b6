"""Data embedded in pages: nothing a user typed reaches the HTML parser as markup."""

from __future__ import annotations

import json
import re

from counterline.services import Services
from counterline.web.page_data import encode_for_page
from tests.cast import Cast
from tests.support.hostile import HOSTILE_TEXTS, seed_hostile

MARKUP = re.compile("[<>&\u2028\u2029]")


def json_blocks(page: str) -> dict[str, str]:
    """The text of each <script type="application/json"> block, as the HTML parser ends it."""
    return dict(
        re.findall(r'<script type="application/json" id="(\w+)">(.*?)</script>', page, re.S)
    )


def test_encoded_page_data_has_no_markup_characters_and_decodes_to_the_same_data() -> None:
    data = {"texts": HOSTILE_TEXTS, "nested": [{"name": text} for text in HOSTILE_TEXTS]}
    encoded = encode_for_page(data)
    assert not MARKUP.search(encoded), MARKUP.findall(encoded)
    assert json.loads(encoded) == data


async def test_room_page_embeds_hostile_names_and_bodies_without_markup(
    login, services: Services, cast: Cast
) -> None:
    names = HOSTILE_TEXTS[:3]
    rooms = await seed_hostile(
        services, names=names, bodies=HOSTILE_TEXTS, room_id=cast.company_room_id, viewer="lina"
    )
    li = await login("lina")
    topic_id = next(iter(rooms.joined.values()))
    pages = {
        room_id: await li.http.get(f"/rooms/{room_id}")
        for room_id in (cast.company_room_id, topic_id)
    }
    for room_id, page in pages.items():
        assert page.status_code == 200
        blocks = json_blocks(page.text)
        # The staff directory is not embedded: the page's scripts ask GET /api/v1/users.
        assert set(blocks) == {"boot"}
        for block in blocks.values():
            assert not MARKUP.search(block), (room_id, MARKUP.findall(block))
    messages = json.loads(json_blocks(pages[cast.company_room_id].text)["boot"])["page"]["messages"]
    assert [message["body"] for message in messages] == HOSTILE_TEXTS
    assert {message["author"]["display_name"] for message in messages} == set(names)
    assert {message["branch"]["name"] for message in messages} == set(names)
    topic = json.loads(json_blocks(pages[topic_id].text)["boot"])
    assert topic["room"]["name"] in rooms.joined
