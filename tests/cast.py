"""The fixed cast every test meets: two branches, their clerks, a trainer, a manager, an admin."""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher

from counterline.accounts.models import Role
from counterline.people.actions import add_branch, add_user
from counterline.rooms.actions import open_branch_room, open_company_room
from counterline.services import Services

PASSWORD = "counter-pass-1"
# A real argon2 hash with light parameters: verifying reads them from the hash, so the
# hundreds of logins in the suite stay quick while going through the production code.
QUICK_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
CHENGBEI = "城北营业厅"
HUAQIAO = "花桥营业厅"
HEAD_OFFICE = "总部"


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    branch: str
    role: Role
    id: int = 0


@dataclass
class Cast:
    """Ids are filled in when the cast is seeded into the template database."""

    people: dict[str, Person] = field(default_factory=dict)
    branch_ids: dict[str, int] = field(default_factory=dict)
    branch_room_ids: dict[str, int] = field(default_factory=dict)
    company_room_id: int = 0

    def __getitem__(self, username: str) -> Person:
        return self.people[username]


PEOPLE = [
    Person("wangfang", "王芳", CHENGBEI, Role.clerk),
    Person("lina", "李娜", HUAQIAO, Role.clerk),
    Person("zhouqiang", "周强", HUAQIAO, Role.clerk),
    Person("zhangwei", "张伟", HEAD_OFFICE, Role.trainer),
    Person("zhaomin", "赵敏", CHENGBEI, Role.manager),
    Person("chengang", "陈刚", HEAD_OFFICE, Role.admin),
]


async def seed(services: Services) -> Cast:
    cast = Cast()
    async with services.transaction() as unit:
        cast.company_room_id = (await open_company_room(unit)).id
        branches = {}
        for name in (CHENGBEI, HUAQIAO, HEAD_OFFICE):
            branch = await add_branch(unit, name)
            branches[name] = branch
            cast.branch_ids[name] = branch.id
            cast.branch_room_ids[name] = (await open_branch_room(unit, branch)).id
        for person in PEOPLE:
            user, _ = await add_user(
                unit,
                username=person.username,
                display_name=person.name,
                branch=branches[person.branch],
                role=person.role,
                password=PASSWORD,
            )
            user.password_hash = QUICK_HASH
            cast.people[person.username] = Person(
                person.username, person.name, person.branch, person.role, user.id
            )
    return cast
