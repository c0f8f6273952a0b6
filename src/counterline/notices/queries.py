"""Every query of notices. Compliance reads the audience rows of one notice grouped by
branch (``ix_notice_recipients_notice_id_branch_id``): no person is loaded to count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from counterline.accounts.models import User
from counterline.branches.models import Branch
from counterline.notices.models import (
    Notice,
    NoticeAcknowledgement,
    NoticeQuestion,
    NoticeRecipient,
    NoticeRevision,
)

MAX_MISSING = 1000
MAX_LISTED = 200


def audience_filter(audience: dict[str, Any], *, within_branch: int | None) -> ColumnElement[bool]:
    """Who an audience definition names today (active people only)."""
    named: list[ColumnElement[bool]] = []
    if audience.get("all"):
        named.append(literal(True))
    if audience.get("branch_ids"):
        named.append(User.branch_id.in_(audience["branch_ids"]))
    if audience.get("roles"):
        named.append(User.role.in_(audience["roles"]))
    if audience.get("user_ids"):
        named.append(User.id.in_(audience["user_ids"]))
    condition = and_(User.active.is_(True), or_(*named) if named else literal(False))
    if within_branch is not None:
        condition = and_(condition, User.branch_id == within_branch)
    return condition


async def add_recipients(
    db: AsyncSession,
    notice_id: int,
    audience: dict[str, Any],
    *,
    within_branch: int | None,
    exclude_user: int,
    at: datetime,
) -> None:
    """Everyone the definition names now and not yet in the audience joins it, with their
    branch and role as they are now (one INSERT ... SELECT)."""
    already = select(NoticeRecipient.user_id).where(NoticeRecipient.notice_id == notice_id)
    chosen = select(
        literal(notice_id),
        User.id,
        User.branch_id,
        User.role,
        literal(at, NoticeRecipient.added_at.type),
        literal(0),
    ).where(
        audience_filter(audience, within_branch=within_branch),
        User.id != exclude_user,
        User.id.not_in(already),
    )
    columns = ["notice_id", "user_id", "branch_id", "role", "added_at", "attempts"]
    await db.execute(insert(NoticeRecipient).from_select(columns, chosen))


async def recipient_ids(db: AsyncSession, notice_id: int) -> list[int]:
    result = await db.scalars(
        select(NoticeRecipient.user_id).where(NoticeRecipient.notice_id == notice_id)
    )
    return list(result)


async def open_recipient_ids(
    db: AsyncSession, notice_id: int, *, branch_id: int | None = None
) -> list[int]:
    query = select(NoticeRecipient.user_id).where(
        NoticeRecipient.notice_id == notice_id, NoticeRecipient.completed_at.is_(None)
    )
    if branch_id is not None:
        query = query.where(NoticeRecipient.branch_id == branch_id)
    return list(await db.scalars(query))


async def reopen_all(db: AsyncSession, notice_id: int) -> None:
    """A revision asks everyone again: each row is open, its record stays in the history."""
    await db.execute(
        update(NoticeRecipient)
        .where(NoticeRecipient.notice_id == notice_id)
        .values(acknowledged_at=None, completed_at=None, attempts=0, last_score=None)
    )


async def find_notice(db: AsyncSession, notice_id: int) -> Notice | None:
    return await db.get(Notice, notice_id)


async def lock_notice(db: AsyncSession, notice_id: int) -> Notice:
    """The notice, locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
    locked = select(Notice).where(Notice.id == notice_id).with_for_update()
    return (await db.scalars(locked)).one()


async def notice_id_discussed_in(db: AsyncSession, room_id: int) -> int | None:
    return await db.scalar(select(Notice.id).where(Notice.discussion_room_id == room_id))


async def find_recipient(
    db: AsyncSession, notice_id: int, user_id: int, *, for_update: bool = False
) -> NoticeRecipient | None:
    query = select(NoticeRecipient).where(
        NoticeRecipient.notice_id == notice_id, NoticeRecipient.user_id == user_id
    )
    if for_update:
        query = query.with_for_update()
    return await db.scalar(query)


async def questions_of(db: AsyncSession, notice_id: int, revision: int) -> list[NoticeQuestion]:
    result = await db.scalars(
        select(NoticeQuestion)
        .where(NoticeQuestion.notice_id == notice_id, NoticeQuestion.revision == revision)
        .order_by(NoticeQuestion.position)
    )
    return list(result)


async def find_revision(db: AsyncSession, notice_id: int, number: int) -> NoticeRevision | None:
    return await db.get(NoticeRevision, (notice_id, number))


async def branch_ids_existing(db: AsyncSession, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return set(await db.scalars(select(Branch.id).where(Branch.id.in_(ids))))


async def users_existing(db: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    """Of ``ids``, the people who exist: their branch."""
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.branch_id).where(User.id.in_(ids)))
    return {user_id: branch_id for user_id, branch_id in rows}


async def display_names(db: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """Of ``ids``, the people who exist: their name (the revise page's audience)."""
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


async def count_recipients(db: AsyncSession, notice_id: int) -> int:
    found = await db.scalar(
        select(func.count())
        .select_from(NoticeRecipient)
        .where(NoticeRecipient.notice_id == notice_id)
    )
    return found or 0


async def list_for_user(
    db: AsyncSession, user_id: int, *, open_only: bool, limit: int = MAX_LISTED
) -> Sequence[Row[Any]]:
    """The notices addressed to a person, newest first: (notice, their row, author name)."""
    query = (
        select(Notice, NoticeRecipient, User.display_name.label("author"))
        .join(NoticeRecipient, NoticeRecipient.notice_id == Notice.id)
        .join(User, User.id == Notice.author_id)
        .where(NoticeRecipient.user_id == user_id, Notice.archived.is_(False))
        .order_by(Notice.id.desc())
        .limit(limit)
    )
    if open_only:
        query = query.where(NoticeRecipient.completed_at.is_(None))
    return (await db.execute(query)).all()


async def list_published(
    db: AsyncSession, *, author_id: int | None, branch_id: int | None, limit: int = MAX_LISTED
) -> Sequence[Row[Any]]:
    """Notices to oversee, newest first: (notice, author name). ``author_id``: only theirs;
    ``branch_id``: only those with audience in that branch (or by that author)."""
    query = (
        select(Notice, User.display_name.label("author"))
        .join(User, User.id == Notice.author_id)
        .where(Notice.archived.is_(False))
        .order_by(Notice.id.desc())
        .limit(limit)
    )
    if branch_id is not None:
        in_branch = (
            select(NoticeRecipient.notice_id)
            .where(NoticeRecipient.branch_id == branch_id)
            .distinct()
        )
        query = query.where(or_(Notice.id.in_(in_branch), Notice.author_id == author_id))
    elif author_id is not None:
        query = query.where(Notice.author_id == author_id)
    return (await db.execute(query)).all()


async def has_recipients_in(db: AsyncSession, notice_id: int, branch_id: int) -> bool:
    found = await db.scalar(
        select(NoticeRecipient.user_id)
        .where(NoticeRecipient.notice_id == notice_id, NoticeRecipient.branch_id == branch_id)
        .limit(1)
    )
    return found is not None


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def compliance_by_branch(
    db: AsyncSession, notice_id: int, *, branch_id: int | None
) -> Sequence[Row[Any]]:
    """Per branch (as it was in the audience): (branch_id, name, audience, acknowledged,
    done), one GROUP BY over the notice's rows."""
    query = (
        select(
            NoticeRecipient.branch_id,
            Branch.name,
            func.count().label("audience"),
            _count_if(NoticeRecipient.acknowledged_at.is_not(None)).label("acknowledged"),
            _count_if(NoticeRecipient.completed_at.is_not(None)).label("done"),
        )
        .join(Branch, Branch.id == NoticeRecipient.branch_id)
        .where(NoticeRecipient.notice_id == notice_id)
        .group_by(NoticeRecipient.branch_id, Branch.name)
        .order_by(Branch.name)
    )
    if branch_id is not None:
        query = query.where(NoticeRecipient.branch_id == branch_id)
    return (await db.execute(query)).all()


async def missing_people(
    db: AsyncSession, notice_id: int, *, branch_id: int | None, limit: int = MAX_MISSING
) -> Sequence[Row[Any]]:
    """Who is not done yet: (user_id, display name, username, branch_id, attempts)."""
    query = (
        select(
            NoticeRecipient.user_id,
            User.display_name,
            User.username,
            NoticeRecipient.branch_id,
            NoticeRecipient.attempts,
        )
        .join(User, User.id == NoticeRecipient.user_id)
        .where(NoticeRecipient.notice_id == notice_id, NoticeRecipient.completed_at.is_(None))
        .order_by(NoticeRecipient.branch_id, User.display_name, User.id)
        .limit(limit)
    )
    if branch_id is not None:
        query = query.where(NoticeRecipient.branch_id == branch_id)
    return (await db.execute(query)).all()


async def remind_open(
    db: AsyncSession, notice_id: int, *, branch_id: int | None, at: datetime
) -> list[int]:
    """Mark everyone not done yet as reminded now; who they are."""
    condition = and_(NoticeRecipient.notice_id == notice_id, NoticeRecipient.completed_at.is_(None))
    if branch_id is not None:
        condition = and_(condition, NoticeRecipient.branch_id == branch_id)
    user_ids = list(await db.scalars(select(NoticeRecipient.user_id).where(condition)))
    if user_ids:
        await db.execute(update(NoticeRecipient).where(condition).values(reminded_at=at))
    return user_ids


async def export_rows(
    db: AsyncSession, notice: Notice, *, branch_id: int | None
) -> Sequence[Row[Any]]:
    """Everyone in the audience with their record for the revision to acknowledge: name,
    username, branch and role (as in the audience), added, answered, done, the address the
    acknowledgement came from, the last score, attempts."""
    Ack = aliased(NoticeAcknowledgement)
    query = (
        select(
            User.display_name,
            User.username,
            Branch.name.label("branch"),
            NoticeRecipient.role,
            NoticeRecipient.added_at,
            NoticeRecipient.acknowledged_at,
            NoticeRecipient.completed_at,
            Ack.client_ip,
            NoticeRecipient.last_score,
            NoticeRecipient.attempts,
        )
        .join(User, User.id == NoticeRecipient.user_id)
        .join(Branch, Branch.id == NoticeRecipient.branch_id)
        .outerjoin(
            Ack,
            and_(
                Ack.notice_id == NoticeRecipient.notice_id,
                Ack.user_id == NoticeRecipient.user_id,
                Ack.revision >= notice.ack_revision,
            ),
        )
        .where(NoticeRecipient.notice_id == notice.id)
        .order_by(Branch.name, User.display_name, User.id)
    )
    if branch_id is not None:
        query = query.where(NoticeRecipient.branch_id == branch_id)
    return (await db.execute(query)).all()


# Search (notices/documents.py)


async def texts_after(db: AsyncSession, after: int, limit: int) -> Sequence[Row[Any]]:
    """(id, title, body) of the notices not archived after ``after``, in id order."""
    query = (
        select(Notice.id, Notice.title, Notice.body)
        .where(Notice.id > after, Notice.archived.is_(False))
        .order_by(Notice.id)
        .limit(limit)
    )
    return (await db.execute(query)).all()


async def texts_of(db: AsyncSession, ids: Sequence[int]) -> Sequence[Row[Any]]:
    """(id, title, body, created_at) of those of ``ids`` that are not archived."""
    if not ids:
        return []
    query = select(Notice.id, Notice.title, Notice.body, Notice.created_at).where(
        Notice.id.in_(ids), Notice.archived.is_(False)
    )
    return (await db.execute(query)).all()


def _readable_by(*, seen_branch: bool) -> ColumnElement[bool]:
    """The notices a person who does not oversee every notice may open (not archived):
    those addressed to them (``:viewer_id``), and with ``seen_branch`` (a manager's) also
    their own and those reaching their branch (``:branch_id``)."""
    viewer = bindparam("viewer_id")
    mine = select(NoticeRecipient.notice_id).where(NoticeRecipient.user_id == viewer)
    readable = [Notice.id.in_(mine)]
    if seen_branch:
        reaching = select(NoticeRecipient.notice_id).where(
            NoticeRecipient.branch_id == bindparam("branch_id")
        )
        readable += [Notice.author_id == viewer, Notice.id.in_(reaching)]
    return and_(Notice.archived.is_(False), or_(*readable))


# What search shows of a notice (notices/documents.py), of those a viewer may open: built
# once, the viewer's ids bound at each search.
_SEARCHED = select(Notice.id, Notice.title, Notice.body, Notice.created_at.label("time"))
SEARCHED_BY_OVERSEER = _SEARCHED.where(Notice.archived.is_(False))
SEARCHED_BY_ADDRESSEE = _SEARCHED.where(_readable_by(seen_branch=False))
SEARCHED_BY_MANAGER = _SEARCHED.where(_readable_by(seen_branch=True))
