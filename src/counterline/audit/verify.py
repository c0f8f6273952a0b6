"""Checking the audit log's hash chain (``counterline audit verify``).

The log is read in id order, a batch at a time, with one entry of look-ahead: an entry
that does not fit while the entry after it links straight past it was slipped in; one whose
contents no longer match its hash was changed (or written outside Counterline with a
made-up hash); one whose link points to an entry that is not there follows deleted entries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.audit.chain import GENESIS, entry_hash
from counterline.audit.models import AuditEntry

BATCH = 2000


@dataclass(frozen=True)
class Broken:
    """The first entry where the chain does not hold, and what is wrong with it."""

    entry_id: int
    problem: str  # "changed", "inserted" or "missing"
    explanation: str


@dataclass(frozen=True)
class ChainReport:
    entries: int  # verified (those before the broken one, when it is broken)
    head_id: int | None
    head_hash: str
    broken: Broken | None = None
    first_id: int | None = None  # the first entry verified
    from_start: bool = True  # False: from an entry taken on trust (``newest``)


@dataclass(frozen=True)
class _Link:
    id: int
    prev_hash: str
    entry_hash: str
    intact: bool  # its fields still give its hash


@dataclass
class _Walk:
    """The last two entries accepted: ``earlier`` is None at the start of the log, and
    ``earlier_known`` is False when the walk started at an anchor taken on trust."""

    earlier: _Link | None = None
    last: _Link | None = None
    earlier_known: bool = True
    entries: int = 0
    first_id: int | None = None
    from_start: bool = True

    def accept(self, link: _Link) -> None:
        self.earlier, self.last, self.earlier_known = self.last, link, True
        self.entries += 1
        self.first_id = link.id if self.first_id is None else self.first_id

    def report(self, broken: Broken | None = None) -> ChainReport:
        return ChainReport(
            entries=self.entries,
            head_id=self.last.id if self.last is not None else None,
            head_hash=_hash_of(self.last),
            broken=broken,
            first_id=self.first_id,
            from_start=self.from_start,
        )


_FIELDS = (
    AuditEntry.prev_hash,
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor_id,
    AuditEntry.action,
    AuditEntry.target,
    AuditEntry.client_ip,
    AuditEntry.details,
)


async def _links(session: AsyncSession, batch: int, after: int | None) -> AsyncIterator[_Link]:
    while True:
        query = select(AuditEntry.entry_hash, *_FIELDS).order_by(AuditEntry.id).limit(batch)
        if after is not None:
            query = query.where(AuditEntry.id > after)
        rows = (await session.execute(query)).all()
        if not rows:
            return
        for stored, prev_hash, id, at, actor_id, action, target, client_ip, details in rows:
            computed = entry_hash(
                prev_hash=prev_hash, id=id, at=at, actor_id=actor_id, action=action,
                target=target, client_ip=client_ip, details=details,
            )  # fmt: skip
            yield _Link(id, prev_hash, stored, stored == computed)
        after = rows[-1].id


async def verify_chain(
    session: AsyncSession,
    *,
    head: str | None = None,
    batch: int = BATCH,
    newest: int | None = None,
) -> ChainReport:
    """Walk the log in id order; report how many entries hold and the head, or the first
    broken entry. With ``head`` (a hash noted earlier), that entry must still be in the
    chain. With ``newest``, only the newest that many entries are checked, linked to the
    entry before them taken on trust (fast, for a page; the whole walk is the CLI's)."""
    walk = _Walk()
    if newest is not None:
        walk.last = await _anchor(session, newest)
        walk.earlier_known = walk.from_start = walk.last is None
    head_seen = head is None
    pending = None
    async for link in _links(session, batch, walk.last.id if walk.last is not None else None):
        if pending is not None:
            return walk.report(_diagnose(pending, walk, link))
        if link.intact and link.prev_hash == _hash_of(walk.last):
            walk.accept(link)
            head_seen = head_seen or link.entry_hash == head
        else:
            pending = link
    if pending is not None:
        return walk.report(_diagnose(pending, walk, None))
    if not head_seen:
        return walk.report(
            Broken(
                walk.last.id if walk.last is not None else 0,
                "missing",
                f"the entry with hash {head} is no longer in the log: the newest entries "
                "were deleted, or the log was rewritten",
            )
        )
    return walk.report()


async def _anchor(session: AsyncSession, newest: int) -> _Link | None:
    """The entry just before the newest ``newest`` ones (None if there are no more)."""
    query = (
        select(AuditEntry.id, AuditEntry.prev_hash, AuditEntry.entry_hash)
        .order_by(AuditEntry.id.desc())
        .offset(newest)
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return _Link(row.id, row.prev_hash, row.entry_hash, True) if row is not None else None


def _hash_of(link: _Link | None) -> str:
    return link.entry_hash if link is not None else GENESIS


def _name_of(link: _Link | None) -> str:
    return f"entry #{link.id}" if link is not None else "the start of the log"


def _diagnose(link: _Link, walk: _Walk, following: _Link | None) -> Broken:
    """What is wrong at ``link``, the first entry that does not fit after the walk's last
    accepted one, given the entry ``following`` it."""
    earlier, last = walk.earlier, walk.last
    previous = _name_of(last)
    if following is not None and following.prev_hash == _hash_of(last):
        return Broken(
            link.id,
            "inserted",
            f"entry #{link.id} was inserted: entry #{following.id} follows {previous} directly",
        )
    skips_last = walk.earlier_known and link.prev_hash == _hash_of(earlier)
    if last is not None and link.intact and skips_last:
        before = _name_of(earlier)
        return Broken(
            last.id,
            "inserted",
            f"entry #{last.id} was inserted: entry #{link.id} follows {before} directly",
        )
    if not link.intact:
        return Broken(
            link.id,
            "changed",
            f"entry #{link.id} no longer matches its hash: it was changed, or written outside "
            "Counterline",
        )
    if last is None:
        return Broken(
            link.id,
            "missing",
            f"entry #{link.id} is the first entry but does not start the chain: the entries "
            "before it were deleted",
        )
    if link.id > last.id + 1:
        gone = f"#{last.id + 1}" if link.id == last.id + 2 else f"#{last.id + 1}–#{link.id - 1}"
        return Broken(
            link.id,
            "missing",
            f"entry #{link.id} does not follow {previous}: the entries between them ({gone}) "
            "were deleted",
        )
    return Broken(
        last.id,
        "changed",
        f"entry #{link.id} does not follow {previous}: #{last.id} was rewritten with a new "
        "hash, or replaced",
    )
