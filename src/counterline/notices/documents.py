"""Notices as search finds them (``search.documents``, kind ``notice``): each notice that
is not archived is indexed under its title and current body, when it is published and at
every revision (``actions``), and leaves the index when archived.

A hit is shown to whoever may open the notice (``actions.read_notice``): the people it is
addressed to; trainers and administrators, who oversee every notice; a manager, for their
own notices and those reaching their branch. ``register`` makes the kind known to search;
services.py calls it when the process is wired.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts import policy
from counterline.accounts.models import User
from counterline.accounts.policy import Role
from counterline.i18n import N_
from counterline.notices import queries
from counterline.notices.models import Notice
from counterline.search.documents import (
    DocumentHit,
    index_document,
    register_source,
    unindex_document,
)

KIND = "notice"
LABEL = N_("Notices")  # the search page's section


def searchable_text(title: str, body: str) -> str:
    """What a notice is found by: its title and its current body."""
    return f"{title}\n{body}"


async def index_notice(session: AsyncSession, notice: Notice) -> None:
    """Index the notice as it is now (published, revised), replacing what it was."""
    await index_document(session, KIND, notice.id, searchable_text(notice.title, notice.body))


async def unindex_notice(session: AsyncSession, notice_id: int) -> None:
    await unindex_document(session, KIND, notice_id)


async def _texts_after(session: AsyncSession, after: int, limit: int) -> list[tuple[int, str]]:
    rows = await queries.texts_after(session, after, limit)
    return [(row.id, searchable_text(row.title, row.body)) for row in rows]


async def _texts_of(session: AsyncSession, ids: Collection[int]) -> Mapping[int, str]:
    rows = await queries.texts_of(session, list(ids))
    return {row.id: searchable_text(row.title, row.body) for row in rows}


def _readable(viewer: User) -> tuple[Select[Any], dict[str, int]]:
    """Trainers and administrators may open every notice; a manager, beyond what is
    addressed to them, their own and what reaches their branch; anyone else what is
    addressed to them (``actions.read_notice``)."""
    if policy.oversees_all_notices(viewer.role):
        return queries.SEARCHED_BY_OVERSEER, {}
    if viewer.role == Role.manager:
        return queries.SEARCHED_BY_MANAGER, {"viewer_id": viewer.id, "branch_id": viewer.branch_id}
    return queries.SEARCHED_BY_ADDRESSEE, {"viewer_id": viewer.id}


def _hit_of(row: Row[Any]) -> DocumentHit:
    return DocumentHit(
        kind=KIND,
        ref_id=row.id,
        title=row.title,
        url=f"/notices/{row.id}",
        text=row.body,
        searched=searchable_text(row.title, row.body),
        time=row.time,
    )


def register() -> None:
    """Make notices known to search (at wiring time: services.py)."""
    register_source(
        KIND,
        label=LABEL,
        texts_after=_texts_after,
        readable=_readable,
        hit_of=_hit_of,
        texts_of=_texts_of,
    )
