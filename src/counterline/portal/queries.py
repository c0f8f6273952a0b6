"""Every query of the portal. Entries are few (tens, a few hundred): who sees which is
decided in Python over all active entries and their branch and role lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.branches.models import Branch
from counterline.portal.models import (
    PortalEntry,
    PortalEntryBranch,
    PortalEntryRole,
    PortalUserEntry,
)
from counterline.rooms.models import Room, RoomKind
from counterline.uploads.models import Upload


@dataclass
class Audience:
    """Who an entry is shown to, when not to all."""

    branch_ids: set[int] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)


async def find_entry(db: AsyncSession, entry_id: int) -> PortalEntry | None:
    """An entry not deleted."""
    entry = await db.get(PortalEntry, entry_id)
    return entry if entry is not None and entry.archived_at is None else None


async def list_entries(db: AsyncSession, *, active_only: bool) -> Sequence[PortalEntry]:
    """Entries not deleted, by category, position and id."""
    query = select(PortalEntry).where(PortalEntry.archived_at.is_(None))
    if active_only:
        query = query.where(PortalEntry.active.is_(True))
    result = await db.scalars(
        query.order_by(PortalEntry.category, PortalEntry.position, PortalEntry.id)
    )
    return result.all()


async def audiences(db: AsyncSession, entry_ids: Iterable[int]) -> dict[int, Audience]:
    ids = list(entry_ids)
    found: dict[int, Audience] = defaultdict(Audience)
    if not ids:
        return found
    for entry_id, branch_id in await db.execute(
        select(PortalEntryBranch.entry_id, PortalEntryBranch.branch_id).where(
            PortalEntryBranch.entry_id.in_(ids)
        )
    ):
        found[entry_id].branch_ids.add(branch_id)
    for entry_id, role in await db.execute(
        select(PortalEntryRole.entry_id, PortalEntryRole.role).where(
            PortalEntryRole.entry_id.in_(ids)
        )
    ):
        found[entry_id].roles.add(role)
    return found


async def set_audience(db: AsyncSession, entry_id: int, audience: Audience) -> None:
    old = (await audiences(db, [entry_id]))[entry_id]
    for branch_id in old.branch_ids - audience.branch_ids:
        await db.delete(await db.get(PortalEntryBranch, (entry_id, branch_id)))
    for role in old.roles - audience.roles:
        await db.delete(await db.get(PortalEntryRole, (entry_id, role)))
    db.add_all(
        PortalEntryBranch(entry_id=entry_id, branch_id=branch_id)
        for branch_id in audience.branch_ids - old.branch_ids
    )
    db.add_all(PortalEntryRole(entry_id=entry_id, role=role) for role in audience.roles - old.roles)
    await db.flush()


async def user_entries(db: AsyncSession, user_id: int) -> dict[int, PortalUserEntry]:
    result = await db.scalars(select(PortalUserEntry).where(PortalUserEntry.user_id == user_id))
    return {row.entry_id: row for row in result}


async def find_user_entry(db: AsyncSession, user_id: int, entry_id: int) -> PortalUserEntry | None:
    return await db.get(PortalUserEntry, (user_id, entry_id))


async def existing_branch_ids(db: AsyncSession, branch_ids: Iterable[int]) -> set[int]:
    ids = list(branch_ids)
    if not ids:
        return set()
    return set(await db.scalars(select(Branch.id).where(Branch.id.in_(ids))))


async def list_branches(db: AsyncSession) -> Sequence[Branch]:
    return (await db.scalars(select(Branch).order_by(Branch.name))).all()


async def list_notice_rooms(db: AsyncSession) -> Sequence[Room]:
    """Rooms a notice can go to: named rooms (not conversations)."""
    result = await db.scalars(
        select(Room).where(Room.kind != RoomKind.conversation).order_by(Room.name)
    )
    return result.all()


async def find_upload(db: AsyncSession, upload_id: int) -> Upload | None:
    return await db.get(Upload, upload_id)
