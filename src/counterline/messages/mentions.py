"""Mentions and addressees: who a group of posts is addressed to, resolved once per group.

``@wangfang`` or ``@王芳`` (a member of the room, by username or display name),
``@城北营业厅`` (the members of the room in that branch), ``@培训师`` / ``@trainers`` (the
members with that role) and ``@all`` / ``@所有人`` (every member). Tokens are found by the
renderer (``rendering._mention``), so ``@`` inside code, addresses (``a@b.cn``) and tokens
nobody answers to stay text. Only members of the room count: a name that is not a member's
is not a mention there.

Each message's addressees get one ``message_addressees`` row each (the inbox: one row per
person and message, with the reasons as bits), written in the post's transaction:
everyone else in a conversation (``direct``), and whoever a mention reaches. One query per
group of posts loads the members of its conversations and of the rooms whose posts have an
``@``; posts without either cost nothing more.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import User
from counterline.accounts.policy import Role
from counterline.branches.models import Branch
from counterline.errors import UserError
from counterline.i18n import N_
from counterline.messages.models import MessageAddressee
from counterline.messages.rendering import MAX_MENTION_LENGTH, Mention, render_with_mentions
from counterline.rooms.models import Membership, Room, RoomKind

if TYPE_CHECKING:
    from counterline.messages.actions import Draft

# More members than this and @all asks first (MessageIn.confirm_all).
CONFIRM_ALL_ABOVE = 50
CONFIRM_ALL = N_("This will notify everyone in the room (%(count)s people). Send it anyway?")


class Reason(enum.IntFlag):
    """Why a message is in someone's inbox (``message_addressees.reasons``)."""

    direct = 1
    mention = 2
    branch = 4
    role = 8
    all = 16


REASON_NAMES = tuple(reason.name for reason in Reason if reason.name)

# The names a role answers to, as the UI shows them, in Chinese and English.
ROLE_TOKENS: dict[Role, tuple[str, ...]] = {
    Role.clerk: ("柜员", "clerk", "clerks"),
    Role.trainer: ("培训师", "trainer", "trainers"),
    Role.manager: ("经理", "店长", "manager", "managers"),
    Role.admin: ("管理员", "admin", "admins"),
}
ALL_TOKENS = ("all", "所有人", "everyone")
_ROLE_OF = {alias: str(role) for role, aliases in ROLE_TOKENS.items() for alias in aliases}
# What follows an "@", up to the longest name (rendering.MAX_MENTION_LENGTH).
_TYPED = re.compile(rf"@(\S{{1,{MAX_MENTION_LENGTH}}})")


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    username: str
    display_name: str
    branch_id: int
    branch_name: str
    role: str


@dataclass(slots=True)
class RoomMembers:
    kind: str
    members: list[Member] = field(default_factory=list)
    _tokens: dict[str, Mention] | None = None

    def tokens(self) -> dict[str, Mention]:
        """What ``@`` answers to in this room, case-folded: its members' branch names,
        roles, ``all``, display names and usernames (a later entry wins a clash, so a
        username beats a display name, which beats a branch or role)."""
        if self._tokens is None:
            tokens: dict[str, Mention] = {}
            for alias in ALL_TOKENS:
                tokens[alias] = Mention("all", None, "all")
            for member in self.members:
                for alias in ROLE_TOKENS.get(Role(member.role), ()):
                    tokens[alias] = Mention("role", None, member.role)
            for member in self.members:
                tokens[member.branch_name.casefold()] = Mention(
                    "branch", member.branch_id, member.branch_name
                )
            for member in self.members:
                user = Mention("user", member.id, member.username, member.display_name)
                tokens[member.display_name.casefold()] = user
            for member in self.members:
                tokens[member.username.casefold()] = Mention(
                    "user", member.id, member.username, member.display_name
                )
            self._tokens = tokens
        return self._tokens


_MEMBERS = (
    select(
        Membership.room_id,
        Room.kind,
        User.id,
        User.username,
        User.display_name,
        User.branch_id,
        Branch.name,
        User.role,
    )
    .join(Room, Room.id == Membership.room_id)
    .join(User, User.id == Membership.user_id)
    .join(Branch, Branch.id == User.branch_id)
    .where(
        Membership.room_id.in_(bindparam("rooms", expanding=True)),
        or_(
            Room.kind == RoomKind.conversation,
            # Rooms with an "@": only the members a token there may name (all of them for
            # an @all), so an "@" in the 10,000-member company room loads a few rows.
            and_(
                Membership.room_id.in_(bindparam("addressed", expanding=True)),
                or_(
                    Membership.room_id.in_(bindparam("everyone", expanding=True)),
                    func.lower(User.username).in_(bindparam("names", expanding=True)),
                    func.lower(User.display_name).in_(bindparam("names", expanding=True)),
                    func.lower(Branch.name).in_(bindparam("names", expanding=True)),
                    User.role.in_(bindparam("roles", expanding=True)),
                ),
            ),
        ),
        User.active.is_(True),
    )
)
_ADDRESS = insert(MessageAddressee)


@dataclass(slots=True)
class Addressing:
    """The members of a group's conversations and of the rooms its posts mention in."""

    rooms: dict[int, RoomMembers]

    def render(self, draft: Draft) -> tuple[str, list[dict[str, Any]]] | UserError:
        """The draft's HTML and its mentions (MessageOut.mentions), or the refusal of an
        unconfirmed @all in a large room."""
        room = self.rooms.get(draft.room_id)
        if room is None or "@" not in draft.body:
            return render_with_mentions(draft.body, None)[0], []
        html, found = render_with_mentions(draft.body, room.tokens())
        mentions = list({_key(m): _shape(m) for m in found}.values())
        count = len(room.members)
        if count > CONFIRM_ALL_ABOVE and not draft.confirm_all and _mentions_all(found):
            return UserError(CONFIRM_ALL, status_code=409, count=count)
        return html, mentions

    def addressees(
        self, room_id: int, author_id: int, mentions: Sequence[dict[str, Any]]
    ) -> dict[int, int]:
        """Who a message is addressed to (user id: reason bits), its author never."""
        room = self.rooms.get(room_id)
        if room is None:
            return {}
        reached: dict[int, int] = {}
        direct = room.kind == RoomKind.conversation
        for member in room.members:
            bits = Reason.direct if direct else 0
            for mention in mentions:
                kind = mention["kind"]
                if kind == "user" and mention["id"] == member.id:
                    bits |= Reason.mention
                elif kind == "branch" and mention["id"] == member.branch_id:
                    bits |= Reason.branch
                elif kind == "role" and mention["name"] == member.role:
                    bits |= Reason.role
                elif kind == "all":
                    bits |= Reason.all
            if bits and member.id != author_id:
                reached[member.id] = int(bits)
        return reached


def _mentions_all(found: Iterable[Mention]) -> bool:
    return any(mention.kind == "all" for mention in found)


def _key(mention: Mention) -> tuple[str, object]:
    return mention.kind, mention.id if mention.id is not None else mention.name


def _shape(mention: Mention) -> dict[str, Any]:
    return {"kind": mention.kind, "id": mention.id, "name": mention.name}


async def load(db: AsyncSession, drafts: Iterable[Draft]) -> Addressing:
    """One query for the group: members of its conversations, and of the rooms whose drafts
    have an ``@`` those whose username, display name, branch or role starts a text after
    an ``@`` (every member after an @all)."""
    rooms: set[int] = set()
    addressed: set[int] = set()
    everyone: set[int] = set()
    names: set[str] = set()
    roles: set[str] = set()
    for draft in drafts:
        rooms.add(draft.room_id)
        if "@" not in draft.body:
            continue
        addressed.add(draft.room_id)
        for typed in _TYPED.findall(draft.body):
            for length in range(1, len(typed) + 1):
                prefix = typed[:length].casefold()
                names.add(prefix)
                if prefix in ALL_TOKENS:
                    everyone.add(draft.room_id)
                elif prefix in _ROLE_OF:
                    roles.add(_ROLE_OF[prefix])
    loaded: dict[int, RoomMembers] = {}
    if not rooms:
        return Addressing(loaded)
    connection = await db.connection()
    parameters = {
        "rooms": sorted(rooms),
        "addressed": sorted(addressed),
        "everyone": sorted(everyone),
        "names": sorted(names),
        "roles": sorted(roles),
    }
    for room_id, kind, *member in await connection.execute(_MEMBERS, parameters):
        room = loaded.get(room_id)
        if room is None:
            room = loaded[room_id] = RoomMembers(str(kind))
        member[-1] = str(member[-1])
        room.members.append(Member(*member))
    return Addressing(loaded)


async def deliver(db: AsyncSession, addressing: Addressing, messages: Iterable[Any]) -> None:
    """Write the inbox rows of messages just stored (``StoredMessage``s)."""
    rows = [
        {"user_id": user_id, "message_id": m.id, "room_id": m.room_id, "reasons": bits}
        for m in messages
        for user_id, bits in addressing.addressees(m.room_id, m.author_id, m.mentions or ()).items()
    ]
    if rows:
        connection = await db.connection()
        await connection.execute(_ADDRESS, rows)


async def deliver_edit(db: AsyncSession, addressing: Addressing, message: Any) -> None:
    """Inbox rows for the people an edited message now mentions and didn't reach before
    (the clerk forgot the @ and added it). Reaching everyone needs the confirmation only
    posting asks for, so an @all added by an edit stays in the room; rows that exist stay
    as they are, a removed mention doesn't take back what was delivered."""
    reached = addressing.addressees(message.room_id, message.author_id, message.mentions or ())
    wanted = {user: bits for user, bits in reached.items() if bits & ~Reason.all}
    if not wanted:
        return
    existing = await db.scalars(
        select(MessageAddressee.user_id).where(MessageAddressee.message_id == message.id)
    )
    for user_id in existing:
        wanted.pop(user_id, None)
    if wanted:
        connection = await db.connection()
        await connection.execute(
            _ADDRESS,
            [
                {
                    "user_id": user,
                    "message_id": message.id,
                    "room_id": message.room_id,
                    "reasons": bits,
                }
                for user, bits in wanted.items()
            ],
        )


def reasons_of(bits: int) -> list[str]:
    return [name for name in REASON_NAMES if bits & Reason[name]]
