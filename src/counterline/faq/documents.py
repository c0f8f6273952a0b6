"""The FAQ as search sees it (``search.documents``, kind ``faq``): every identified person
may read every entry."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import User
from counterline.faq import queries
from counterline.faq.models import FaqEntry
from counterline.i18n import N_
from counterline.search.documents import DocumentHit, register_source

KIND = "faq"


def searchable_text(entry: FaqEntry | Row[Any]) -> str:
    """What an entry is found by (an entry, or a row of ``queries.SEARCHED``)."""
    return "\n".join((entry.question, entry.topic, entry.answer))


async def _texts_after(session: AsyncSession, after: int, limit: int) -> list[tuple[int, str]]:
    return [
        (entry.id, searchable_text(entry))
        for entry in await queries.entry_ids_after(session, after, limit)
    ]


async def _texts_of(session: AsyncSession, ids: Collection[int]) -> Mapping[int, str]:
    rows = await queries.entry_rows(session, ids=ids)
    return {row.FaqEntry.id: searchable_text(row.FaqEntry) for row in rows}


def _readable(viewer: User) -> tuple[Select[Any], dict[str, Any]]:
    return queries.SEARCHED, {}


def _hit_of(row: Row[Any]) -> DocumentHit:
    return DocumentHit(
        kind=KIND,
        ref_id=row.id,
        title=row.question,
        url=f"/faq/{row.id}",
        text=f"{row.question}\n{row.answer}",
        searched=searchable_text(row),
        time=row.time,
    )


def register() -> None:
    register_source(
        KIND,
        label=N_("FAQ"),
        texts_after=_texts_after,
        readable=_readable,
        hit_of=_hit_of,
        texts_of=_texts_of,
    )
