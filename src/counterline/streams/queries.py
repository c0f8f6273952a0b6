from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.access_feed import AccessChange
from counterline.accounts.models import ApiToken, Session, User
from counterline.accounts.policy import sees_client_ips
from counterline.rooms.models import Membership, Room


async def latest_change_id(db: AsyncSession) -> int:
    return await db.scalar(select(func.max(AccessChange.id))) or 0


_CHANGES_AFTER = (
    select(AccessChange.id, AccessChange.user_id)
    .where(AccessChange.id > bindparam("after"))
    .order_by(AccessChange.id)
)
_CHANGES_AFTER_OR_IN = (
    select(AccessChange.id, AccessChange.user_id)
    .where(
        or_(
            AccessChange.id > bindparam("after"),
            AccessChange.id.in_(bindparam("ids", expanding=True)),
        )
    )
    .order_by(AccessChange.id)
)


async def list_changes(
    db: AsyncSession, after: int, also: Collection[int]
) -> list[tuple[int, int]]:
    """(id, user id) of the changes after id ``after``, and of the ids in ``also``."""
    connection = await db.connection()
    if also:
        result = await connection.execute(_CHANGES_AFTER_OR_IN, {"after": after, "ids": list(also)})
    else:
        result = await connection.execute(_CHANGES_AFTER, {"after": after})
    return [(change_id, user_id) for change_id, user_id in result]


async def delete_changes_before(db: AsyncSession, cutoff: datetime) -> None:
    await db.execute(delete(AccessChange).where(AccessChange.changed_at < cutoff))


@dataclass
class Access:
    """What a user may read right now, as the database says."""

    active: bool
    staff: bool
    room_ids: set[int] = field(default_factory=set)
    session_ids: set[int] = field(default_factory=set)
    token_ids: set[int] = field(default_factory=set)


async def find_access(db: AsyncSession, user_ids: Collection[int]) -> dict[int, Access]:
    """The access of each of ``user_ids`` that exists."""
    ids = list(user_ids)
    users = await db.execute(select(User.id, User.active, User.role).where(User.id.in_(ids)))
    access = {
        user_id: Access(active=active, staff=sees_client_ips(role))
        for user_id, active, role in users
    }
    for attribute, query in (
        ("room_ids", select(Membership.user_id, Membership.room_id)),
        ("session_ids", select(Session.user_id, Session.id)),
        ("token_ids", select(ApiToken.user_id, ApiToken.id)),
    ):
        owner = query.selected_columns[0]
        for user_id, item_id in await db.execute(query.where(owner.in_(ids))):
            if user_id in access:
                getattr(access[user_id], attribute).add(item_id)
    return access


async def find_rooms(db: AsyncSession, room_ids: Collection[int]) -> Sequence[Room]:
    return list(await db.scalars(select(Room).where(Room.id.in_(list(room_ids)))))
