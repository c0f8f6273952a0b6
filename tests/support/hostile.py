"""Text that tries to break the pages it is shown on, and a way to put it everywhere a user or
an administrator can type: branch names, display names, topic room names, message bodies."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from counterline.accounts.actions import get_user_named
from counterline.accounts.models import Role
from counterline.messages.actions import post_message
from counterline.messages.rendering import render_body
from counterline.people.actions import add_branch, add_user
from counterline.rooms.actions import create_topic_room, join_room
from counterline.rooms.models import Visibility
from counterline.services import Services
from tests.cast import PASSWORD

# Names are stripped when stored, so none of these starts or ends with whitespace
# (U+2028 and U+2029 count as whitespace to str.strip). The viewer of seed_hostile joins the
# rooms at even places, whose pages the browser test loads: the quotes' among them.
HOSTILE_TEXTS = [
    "hello <!--<script>",
    "</script><script>alert(1)</script>",
    "<!--",
    "]]>",
    "&lt;b&gt;",
    "a\u2028b\u2029c",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}",
    "'\"\\",
    "${alert(1)}",
    "Tom &amp; Jerry",
    "<![CDATA[x]]> --><!--",
    "x</title></textarea><style>*{display:none}</style>",
    "\\u003c/script> %(room)s",
]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_text(body: str) -> str:
    """The text a browser shows for a message body: its Markdown rendering's text content."""
    parser = _Text()
    parser.feed(render_body(body))
    parser.close()
    return "".join(parser.parts)


@dataclass(frozen=True)
class HostileRooms:
    """Topic rooms named with hostile text: the viewer is a member of ``joined``; the
    others are public rooms the viewer may join."""

    joined: dict[str, int]
    joinable: dict[str, int]


async def seed_hostile(
    services: Services, *, names: list[str], bodies: list[str], room_id: int, viewer: str
) -> HostileRooms:
    """For each name: a branch, a clerk (display name) in it and a public topic room, every
    other one joined by ``viewer``. Then the clerks post ``bodies`` in turn in ``room_id``."""
    joined: dict[str, int] = {}
    joinable: dict[str, int] = {}
    async with services.transaction() as unit:
        trainer = await get_user_named(unit, "zhangwei")
        reader = await get_user_named(unit, viewer)
        authors = []
        for number, name in enumerate(names):
            branch = await add_branch(unit, name)
            user, _ = await add_user(
                unit,
                username=f"hostile{number:02}",
                display_name=name,
                branch=branch,
                role=Role.clerk,
                password=PASSWORD,
            )
            authors.append(user)
            # A room can't share its name with the branch room (rooms.naming): suffixed.
            room_name = f"{name}（专题）"
            room = await create_topic_room(unit, trainer, room_name, Visibility.public)
            if number % 2 == 0:
                await join_room(unit, reader, room.id)
                joined[room_name] = room.id
            else:
                joinable[room_name] = room.id
        for number, body in enumerate(bodies):
            author = authors[number % len(authors)]
            await post_message(unit, author, room_id, body, f"hostile-{number:04}", "10.0.0.9")
    return HostileRooms(joined, joinable)
