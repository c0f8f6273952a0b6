"""How common the index terms are, on PostgreSQL: the share of messages holding each term,
read from the planner's own statistics of ``message_search.terms`` (``ANALYZE``; migration
0008 keeps the 2,000 × 10 most common terms), so a search can tell a rare word, best found
through the GIN index, from a common one, best found reading the newest messages
(``queries._postgres_newest``).

A term the statistics do not list is rarer than the least common one they list: that share
is its upper bound. A word's character pairs together are as common as the rarest of them
at most, and usually about as common (the planner multiplies them instead, as if
independent, and takes a common word for a rare one). Terms of different words may or may
not go together: their product is a guess (``expected``), the rarest one a bound
(``at_most``). Each server reads the statistics once every ``REFRESH`` seconds; before
the first ``ANALYZE`` there are none, and a search finds its way without them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

REFRESH = 300.0  # seconds between reads of the statistics on each server

_STATISTICS = text(
    "SELECT s.most_common_elems::text::text[] AS terms, s.most_common_elem_freqs AS shares, "
    "c.reltuples AS rows FROM pg_stats s JOIN pg_class c ON c.oid = 'message_search'::regclass "
    "WHERE s.schemaname = current_schema() AND s.tablename = 'message_search' "
    "AND s.attname = 'terms'"
)


@dataclass(frozen=True, slots=True)
class TermShares:
    """The share of indexed messages holding each listed term; ``floor`` bounds every
    other term's; ``rows`` is the number of indexed messages."""

    shares: dict[str, float]
    floor: float
    rows: float

    def of(self, term: str) -> float:
        return self.shares.get(term, self.floor)

    def at_most(self, terms: Sequence[str], words: Sequence[tuple[str, Sequence[str]]]) -> float:
        """The share of messages that can hold all ``terms`` at most: the rarest term's;
        each of ``words`` (a long word, found by its own term or by all its pairs) as
        common as its rarest pair at most."""
        return min(self._shares(terms, words), default=1.0)

    def expected(self, terms: Sequence[str], words: Sequence[tuple[str, Sequence[str]]]) -> float:
        """The share of messages expected to hold all ``terms``: each of ``words`` as
        common as its rarest pair, the rest taken as independent of each other (as the
        planner takes them; ``华为Mate60``'s two terms are not, so this is a guess, never
        a bound)."""
        return math.prod(self._shares(terms, words))

    def _shares(
        self, terms: Sequence[str], words: Sequence[tuple[str, Sequence[str]]]
    ) -> list[float]:
        grouped = {pair for _, pairs in words for pair in pairs}
        # A text indexed under a long word has all its pairs: the pairs' share is the word's.
        shares = [
            max(self.of(word), min((self.of(p) for p in pairs), default=1.0))
            for word, pairs in words
        ]
        return shares + [self.of(term) for term in terms if term not in grouped]


@dataclass
class _Cached:
    value: TermShares | None = None
    read_at: float = float("-inf")


_cached: dict[str, _Cached] = {}  # by database


async def term_shares(connection: AsyncConnection) -> TermShares | None:
    """The statistics of the connection's database as last read (again after ``REFRESH``
    seconds); None before the first ``ANALYZE`` of the index."""
    cached = _cached.setdefault(connection.engine.url.render_as_string(), _Cached())
    now = time.monotonic()
    if now - cached.read_at >= REFRESH:
        cached.value = await _read(connection)
        cached.read_at = now
    return cached.value


def forget() -> None:
    """Read the statistics again at the next search (tests, after ``ANALYZE``)."""
    _cached.clear()


async def _read(connection: AsyncConnection) -> TermShares | None:
    row = (await connection.execute(_STATISTICS)).first()
    if row is None or not row.terms or row.rows <= 0:
        return None
    # most_common_elem_freqs: one share per term, then the least and greatest and the
    # share of empty values.
    shares = dict(zip(row.terms, row.shares, strict=False))
    return TermShares(shares, min(row.shares[: len(row.terms)]), float(row.rows))
