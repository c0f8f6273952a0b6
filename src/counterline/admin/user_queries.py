"""The users console's SQL: a filtered page of accounts, names already taken, imports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import KnownAddress, LoginAttempt, Role, User
from counterline.admin.user_models import UserImport
from counterline.branches.models import Branch


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFilters:
    """Every filter narrows; ``text`` matches part of a username or display name."""

    text: str | None = None
    branch_id: int | None = None
    role: Role | None = None
    active: bool | None = None
    user_id: int | None = None
    offset: int = 0
    limit: int = 50


def _filtered(query: Any, filters: UserFilters) -> Any:
    if filters.text:
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                User.username.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
            )
        )
    if filters.branch_id is not None:
        query = query.where(User.branch_id == filters.branch_id)
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.active is not None:
        query = query.where(User.active.is_(filters.active))
    if filters.user_id is not None:
        query = query.where(User.id == filters.user_id)
    return query


async def list_users(db: AsyncSession, filters: UserFilters) -> Sequence[Row[Any]]:
    """A page of accounts (deactivated ones too), by branch and username, with the branch's
    name, the latest login and how many failed logins wait on the username."""
    last_login = (
        select(KnownAddress.user_id, func.max(KnownAddress.last_login_at).label("at"))
        .group_by(KnownAddress.user_id)
        .subquery()
    )
    failures = (
        select(LoginAttempt.username, func.count().label("n"))
        .group_by(LoginAttempt.username)
        .subquery()
    )
    query = (
        select(
            User.id,
            User.username,
            User.display_name,
            User.branch_id,
            Branch.name.label("branch_name"),
            User.role,
            User.active,
            User.must_change_password,
            User.created_at,
            last_login.c.at.label("last_login_at"),
            func.coalesce(failures.c.n, 0).label("failed_logins"),
        )
        .join(Branch, Branch.id == User.branch_id)
        .outerjoin(last_login, last_login.c.user_id == User.id)
        .outerjoin(failures, failures.c.username == User.username)
        .order_by(Branch.name, User.username)
        .offset(filters.offset)
        .limit(filters.limit)
    )
    return (await db.execute(_filtered(query, filters))).all()


async def count_users(db: AsyncSession, filters: UserFilters) -> int:
    query = select(func.count()).select_from(User)
    return await db.scalar(_filtered(query, filters)) or 0


async def taken_usernames(db: AsyncSession, usernames: Iterable[str]) -> set[str]:
    names = list(set(usernames))
    taken: set[str] = set()
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        taken.update(await db.scalars(select(User.username).where(User.username.in_(chunk))))
    return taken


async def branches_by_name(db: AsyncSession) -> dict[str, Branch]:
    return {branch.name: branch for branch in await db.scalars(select(Branch))}


async def find_import(db: AsyncSession, import_id: int) -> UserImport | None:
    return await db.get(UserImport, import_id)


async def claim_import(db: AsyncSession, import_id: int, seen: datetime, now: datetime) -> bool:
    """Move a stalled import's heartbeat to ``now`` if it is still ``seen``: of several
    callers, one wins."""
    result = await db.execute(
        update(UserImport)
        .where(UserImport.id == import_id, UserImport.heartbeat_at == seen)
        .values(heartbeat_at=now)
    )
    return bool(getattr(result, "rowcount", 0))
