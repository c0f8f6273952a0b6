"""Demo data: a few branches, their clerks, a trainer, a conversation to look at and the
FAQ entry its question became.

Independent of what is there already: it adds only its own missing parts and touches
nothing else, so it loads after `branch add 城北营业厅` as on an empty database."""

from __future__ import annotations

import uuid

from counterline.accounts import policy
from counterline.accounts.models import Role, User
from counterline.accounts.queries import find_user_by_username
from counterline.branches.models import Branch
from counterline.branches.queries import find_branch_by_name
from counterline.db import Unit
from counterline.errors import UserError
from counterline.faq.actions import accept_answer, mark_question
from counterline.i18n import N_
from counterline.messages.actions import post_message
from counterline.people.actions import add_branch, add_user
from counterline.rooms.actions import create_topic_room, open_company_room
from counterline.rooms.models import Visibility
from counterline.rooms.naming import name_key
from counterline.rooms.queries import find_room_by_name_key
from counterline.services import Services

BRANCHES = ["城北营业厅", "花桥营业厅", "城南营业厅"]
PEOPLE = [
    ("demo_wang", "王芳", "城北营业厅", Role.clerk),
    ("demo_li", "李娜", "花桥营业厅", Role.clerk),
    ("demo_zhou", "周强", "城南营业厅", Role.clerk),
    ("demo_zhang", "张伟", "城北营业厅", Role.trainer),
    ("demo_zhao", "赵敏", "花桥营业厅", Role.manager),
]
TRAINING_ROOM = "新业务培训"
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
    """Add the demo beside whatever data is there: its branches when missing, its people
    (with ``password``), their conversation and the training room. Returns the usernames
    created; refuses when the demo's people are all there already (it ran before)."""
    async with services.transaction() as unit:
        users = {name: await find_user_by_username(unit.session, name) for name, *_ in PEOPLE}
        if all(users.values()):
            raise UserError(N_("The demo data is loaded already."))
        created = []
        for username, name, branch_name, role in PEOPLE:
            if users[username] is None:
                users[username], _ = await add_user(
                    unit,
                    username=username,
                    display_name=name,
                    branch=await _branch(unit, branch_name),
                    role=role,
                    password=password,
                )
                created.append(username)
        cast = {username: user for username, user in users.items() if user is not None}
        company = await open_company_room(unit)
        posted = [
            await post_message(
                unit, cast[username], company.id, body, _client_id(number), "10.1.2.3"
            )
            for number, (username, body) in enumerate(CONVERSATION)
        ]
        await _training_room(unit, cast["demo_zhang"])
        await _first_faq_entry(unit, cast, [message.id for message, is_new in posted if is_new])
    return created


async def _first_faq_entry(unit: Unit, cast: dict[str, User], new_ids: list[int]) -> None:
    """李娜's question, answered by the trainer, as the FAQ's first entry."""
    trainer = cast["demo_zhang"]
    if len(new_ids) != len(CONVERSATION) or not policy.curates_faq(trainer.role):
        return  # the conversation was there already, or the trainer is one no longer
    question_id, answer_id = new_ids[0], new_ids[1]
    await mark_question(unit, cast["demo_li"], question_id)
    await accept_answer(unit, trainer, question_id, answer_id, "宽带", client_ip="10.1.2.4")


def _client_id(number: int) -> str:
    """The same id on every run: a message of the demo is never stored twice."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"counterline:demo:{number}").hex


async def _branch(unit: Unit, name: str) -> Branch:
    """The branch of that name, whoever added it (`branch add 城北营业厅` in the README)."""
    return await find_branch_by_name(unit.session, name) or await add_branch(unit, name)


async def _training_room(unit: Unit, trainer: User) -> None:
    """The trainer's topic room and its first post; a room of that name someone else
    opened is left alone."""
    room = await find_room_by_name_key(unit.session, name_key(TRAINING_ROOM))
    if room is None:
        room = await create_topic_room(unit, trainer, TRAINING_ROOM, Visibility.public)
    if room.created_by_id != trainer.id:
        return
    body = "本周三 14:00 培训：融合套餐新资费。有问题直接在本房间提问。"
    await post_message(unit, trainer, room.id, body, _client_id(len(CONVERSATION)), "10.1.2.4")
