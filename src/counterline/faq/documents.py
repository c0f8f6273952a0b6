"""The FAQ as search sees it (``search.documents``, kind ``faq``): every identified person
may read every entry."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts.models import User
from counterline.db import Unit
from counterline.faq import queries
from counterline.faq.models import FaqEntry
from counterline.i18n import N_
from counterline.search.documents import DocumentHit, register_source

KIND = "faq"


def searchable_text(entry: FaqEntry) -> str:
    return "\n".join((entry.question, entry.topic, entry.answer))


async def _texts_after(session: AsyncSession, after: int, limit: int) -> list[tuple[int, str]]:
    return [
        (entry.id, searchable_text(entry))
        for entry in await queries.entry_ids_after(session, after, limit)
    ]


async def _texts_of(session: AsyncSession, ids: Collection[int]) -> Mapping[int, str]:
    rows = await queries.entry_rows(session, ids=ids)
    return {row.FaqEntry.id: searchable_text(row.FaqEntry) for row in rows}


async def _visible_hits(unit: Unit, viewer: User, ids: Sequence[int]) -> list[DocumentHit]:
    rows = {
        row.FaqEntry.id: row.FaqEntry for row in await queries.entry_rows(unit.session, ids=ids)
    }
    return [
        DocumentHit(
            kind=KIND,
            ref_id=entry.id,
            title=entry.question,
            url=f"/faq/{entry.id}",
            text=f"{entry.question}\n{entry.answer}",
            time=entry.updated_at,
        )
        for entry in (rows.get(entry_id) for entry_id in ids)
        if entry is not None
    ]


def register() -> None:
    register_source(
        KIND,
        label=N_("FAQ"),
        texts_after=_texts_after,
        visible_hits=_visible_hits,
        texts_of=_texts_of,
    )
