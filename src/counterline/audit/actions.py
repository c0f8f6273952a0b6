"""Writing the audit log: entries are queued on the unit and appended to the chain just
before it commits, under one lock, so chain order, id order and commit order agree."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.audit.chain import GENESIS, as_stored, entry_hash
from counterline.audit.models import AuditEntry
from counterline.db import Unit, utcnow
from counterline.locks import Key

CHAIN_LOCK = Key.AUDIT_CHAIN.value
# Core statements, built once: the ORM's bulk insert costs a millisecond more per commit.
_INSERT = AuditEntry.__table__.insert()
_HEAD = select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) FROM generate_series(1, :n)"
)


@dataclass
class Draft:
    """An entry before it has its place in the chain."""

    action: str
    actor_id: int | None
    target: str
    client_ip: str
    details: dict[str, object]


@dataclass
class PendingEntries:
    """The entries one unit records, appended to the chain before it commits."""

    drafts: list[Draft] = field(default_factory=list)

    async def __call__(self, session: AsyncSession) -> None:
        if not self.drafts:
            return
        await hold_chain(session)
        head = (await session.execute(_HEAD)).first()
        prev_hash = head.entry_hash if head is not None else GENESIS
        ids = await next_ids(session, len(self.drafts), head.id if head is not None else 0)
        rows = []
        for draft, entry_id in zip(self.drafts, ids, strict=True):
            fields = {
                "id": entry_id,
                "at": utcnow(),
                "actor_id": draft.actor_id,
                "action": draft.action,
                "target": draft.target,
                "client_ip": draft.client_ip,
                "details": draft.details,
            }
            hashed = entry_hash(prev_hash=prev_hash, **fields)  # type: ignore[arg-type]
            rows.append({**fields, "prev_hash": prev_hash, "entry_hash": hashed})
            prev_hash = hashed
        self.drafts.clear()
        await session.execute(_INSERT, rows)


async def hold_chain(session: AsyncSession) -> None:
    """One appender at a time until commit. SQLite writers are already serialised
    (``BEGIN IMMEDIATE``); on PostgreSQL a transaction-scoped advisory lock does it."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


async def next_ids(session: AsyncSession, count: int, head_id: int) -> list[int]:
    """Ids for ``count`` new entries, taken while the chain is held: from the table's
    sequence on PostgreSQL (so it stays ahead of every id), after the head on SQLite."""
    if session.bind.dialect.name != "postgresql":
        return list(range(head_id + 1, head_id + 1 + count))
    result = await session.execute(_NEXT_IDS, {"n": count})
    return sorted(result.scalars())


def record(
    unit: Unit,
    action: str,
    *,
    actor_id: int | None = None,
    target: str = "",
    client_ip: str = "",
    **details: object,
) -> None:
    """Add an audit entry to the current transaction (written just before it commits)."""
    draft = Draft(action, actor_id, target, client_ip, as_stored(details))
    unit.before_commit(PendingEntries).drafts.append(draft)
