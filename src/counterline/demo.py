"""Demo data: a few branches, their clerks, a trainer and a conversation to look at."""

from __future__ import annotations

import uuid

from counterline.accounts.models import Role
from counterline.branches.queries import find_branch_by_name
from counterline.errors import UserError
from counterline.i18n import N_
from counterline.messages.actions import post_message
from counterline.people.actions import add_branch, add_user
from counterline.rooms.actions import create_topic_room, open_company_room
from counterline.rooms.models import Visibility
from counterline.services import Services

BRANCHES = ["城北营业厅", "花桥营业厅", "城南营业厅"]
PEOPLE = [
    ("demo_wang", "王芳", "城北营业厅", Role.clerk),
    ("demo_li", "李娜", "花桥营业厅", Role.clerk),
    ("demo_zhou", "周强", "城南营业厅", Role.clerk),
    ("demo_zhang", "张伟", "城北营业厅", Role.trainer),
    ("demo_zhao", "赵敏", "花桥营业厅", Role.manager),
]
CONVERSATION = [
    ("demo_li", "请问新的宽带融合套餐，没有机顶盒的用户怎么收费？"),
    (
        "demo_zhang",
        "按物价局文件：**无机顶盒**只收宽带月费，不收终端维护费。已写进今天的培训要点。",
    ),
    ("demo_wang", "收到。另外资源编码是 `B1E0-7730` 还是 `D1E0-7730`？电话里听不清。"),
    ("demo_zhou", "是 `B1E0-7730`（B 是 Bravo，1 是数字一，E 是 Echo，0 是数字零）。"),
    ("demo_zhao", "以后资源编码一律在这里发文字，不再电话传达。"),
]


async def load_demo(services: Services, password: str) -> list[str]:
    """Create the demo cast with ``password``; returns their usernames."""
    async with services.transaction() as unit:
        if await find_branch_by_name(unit.session, BRANCHES[0]) is not None:
            raise UserError(N_("The demo data is loaded already."))
        branches = {name: await add_branch(unit, name) for name in BRANCHES}
        users = {}
        for username, name, branch, role in PEOPLE:
            users[username], _ = await add_user(
                unit,
                username=username,
                display_name=name,
                branch=branches[branch],
                role=role,
                password=password,
            )
        company = await open_company_room(unit)
        for username, body in CONVERSATION:
            await post_message(
                unit, users[username], company.id, body, uuid.uuid4().hex, "10.1.2.3"
            )
        topic = await create_topic_room(unit, users["demo_zhang"], "新业务培训", Visibility.public)
        await post_message(
            unit,
            users["demo_zhang"],
            topic.id,
            "本周三 14:00 培训：融合套餐新资费。有问题直接在本房间提问。",
            uuid.uuid4().hex,
            "10.1.2.4",
        )
    return [username for username, *_ in PEOPLE]
