"""The search index of documents (``document_search``, migration 0017): notices, FAQ
entries, any text a capability wants found by its words, keyed by (kind, ref_id).

A document is indexed under the terms of its text (``counterline.segmenter``), exactly as
a message is (``messages.indexing``), in the transaction that writes it. A query is read as
message search reads its words: a one- or two-character Chinese word is one term, a longer
one all its character pairs (or its whole-word term, which ranks higher), a code such as
``B1E-0D7`` one term whatever its case; every word must match. Candidates (at most
``MAX_CANDIDATES``, the newest) are ranked by the database (``bm25`` on SQLite; on
PostgreSQL ``ts_rank`` divided by the log of the document's number of terms, as the
lexemes carry no positions), the newer document first on a tie; where the kind's source
gives the texts, a long word's candidates are checked to contain it (its pairs may occur
apart).

``find_similar`` is for suggestions while typing: documents sharing ANY of the text's
terms, scored by how many and how rare the shared terms are (0..1); function words and
characters (``STOP_WORDS``, ``STOP_CHARACTERS``) never make a match.

Search knows no capability: each kind's capability registers a ``DocumentSource`` (its
texts for ``counterline search reindex``, which of its documents a viewer may see and how
a hit shows) through ``register_source`` when the process is wired (``services.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from counterline import segmenter
from counterline.accounts.models import User
from counterline.db import Unit
from counterline.search.queries import fts_expression, tsquery_value

MAX_KIND_LENGTH = 16
MAX_CANDIDATES = 500  # matches ranked for one query at most
MAX_SIMILAR_CANDIDATES = 1000  # documents sharing a term read for one suggestion at most
REINDEX_BATCH = 500
# Never what a match is made of: asking words and particles, in every question.
STOP_WORDS = frozenset(
    {
        "的",
        "了",
        "吗",
        "是",
        "呢",
        "吧",
        "啊",
        "怎么",
        "怎样",
        "怎么办",
        "什么",
        "请问",
        "如何",
        "为什么",
        "哪里",
        "哪些",
        "可以",
        "一下",
        "我们",
        "你们",
        "需要",
        "这个",
        "那个",
        "有没有",
        "是不是",
    }
)
# Characters that are never a word of their own for ``find_similar``.
STOP_CHARACTERS = frozenset(
    "的了吗是呢吧啊嘛呀哦么怎什请问我你他她它们这那哪啥个和与及或也都就还又把被给让在有要"
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentHit:
    """A document as a search result shows it: ``text`` is what its snippet is cut from
    (plain text), ``url`` where it opens, ``time`` when it was written or last changed."""

    kind: str
    ref_id: int
    title: str
    url: str
    text: str
    time: datetime | None = None


# (session, after ref_id, limit) -> [(ref_id, text)] in ref_id order: every document of the
# kind that should be in the index, a batch at a time (``rebuild_documents``).
TextsAfter = Callable[[AsyncSession, int, int], Awaitable[Sequence[tuple[int, str]]]]
# (session, ref_ids) -> {ref_id: text}: the texts of these documents (long words' check).
TextsOf = Callable[[AsyncSession, Collection[int]], Awaitable[Mapping[int, str]]]
# (unit, viewer, ref_ids) -> hits of those the viewer may see, in the order given.
VisibleHits = Callable[[Unit, User, Sequence[int]], Awaitable[list[DocumentHit]]]
# (unit, viewer) -> the ref_ids the viewer may see, or None for all (``among``).
VisibleIds = Callable[[Unit, User], Awaitable[Collection[int] | None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentSource:
    """What a capability tells search about its kind of document. ``label`` is the msgid
    (``N_``) of the kind's section on the search page."""

    kind: str
    label: str
    texts_after: TextsAfter
    visible_hits: VisibleHits
    texts_of: TextsOf | None = None
    visible_ids: VisibleIds | None = None


_sources: dict[str, DocumentSource] = {}


def register_source(
    kind: str,
    *,
    label: str,
    texts_after: TextsAfter,
    visible_hits: VisibleHits,
    texts_of: TextsOf | None = None,
    visible_ids: VisibleIds | None = None,
) -> DocumentSource:
    """Make a kind of document known to search (again: the last registration wins)."""
    if not 0 < len(kind) <= MAX_KIND_LENGTH:
        raise ValueError(f"a document kind is 1 to {MAX_KIND_LENGTH} characters: {kind!r}")
    source = DocumentSource(
        kind=kind,
        label=label,
        texts_after=texts_after,
        visible_hits=visible_hits,
        texts_of=texts_of,
        visible_ids=visible_ids,
    )
    _sources[kind] = source
    return source


def sources() -> list[DocumentSource]:
    """The registered kinds, in the order they were first registered."""
    return list(_sources.values())


def source_of(kind: str) -> DocumentSource | None:
    return _sources.get(kind)


# Writing


_DELETE = text("DELETE FROM document_search WHERE kind = :kind AND ref_id = :ref_id")
_CLEAR_KIND = text("DELETE FROM document_search WHERE kind = :kind")
_INSERT = {
    "sqlite": text(
        "INSERT INTO document_search (kind, ref_id, terms) VALUES (:kind, :ref_id, :terms)"
    ),
    "postgresql": text(
        "INSERT INTO document_search (kind, ref_id, terms) "
        "VALUES (:kind, :ref_id, array_to_tsvector(:terms))"
    ).bindparams(bindparam("terms", type_=ARRAY(Text))),
}


async def index_document(session: AsyncSession, kind: str, ref_id: int, text: str) -> None:
    """Add the document (kind, ref_id) under the terms of ``text``, replacing what it was
    indexed under before (a text without any term leaves it out of the index)."""
    connection = await session.connection()
    await connection.execute(_DELETE, {"kind": kind, "ref_id": ref_id})
    await _store(session, kind, [(ref_id, text)])


async def unindex_document(session: AsyncSession, kind: str, ref_id: int) -> None:
    """Remove the document from the index (deleted, archived)."""
    connection = await session.connection()
    await connection.execute(_DELETE, {"kind": kind, "ref_id": ref_id})


async def _store(session: AsyncSession, kind: str, rows: Sequence[tuple[int, str]]) -> None:
    connection = await session.connection()
    dialect = connection.dialect.name
    parameters = []
    for ref_id, body in rows:
        terms = segmenter.index_terms(body)
        if terms:
            value: Any = " ".join(terms) if dialect == "sqlite" else terms
            parameters.append({"kind": kind, "ref_id": ref_id, "terms": value})
    if parameters:
        await connection.execute(_INSERT[dialect], parameters)


async def rebuild_documents(session: AsyncSession, *, batch: int = REINDEX_BATCH) -> int:
    """Index every registered kind's documents again from scratch (``counterline search
    reindex``: with a new dictionary, old documents get its words as terms); how many."""
    connection = await session.connection()
    indexed = 0
    for source in sources():
        await connection.execute(_CLEAR_KIND, {"kind": source.kind})
        after = 0
        while True:
            rows = list(await source.texts_after(session, after, batch))
            if not rows:
                break
            await _store(session, source.kind, rows)
            indexed += len(rows)
            after = rows[-1][0]
    return indexed


# Finding


@dataclass(frozen=True, slots=True)
class _Query:
    terms: tuple[str, ...]
    checks: tuple[str, ...]  # substrings a match must contain (long words)
    words: tuple[tuple[str, tuple[str, ...]], ...]  # long words and their pairs


def _read(query: str) -> _Query:
    terms: dict[str, None] = {}
    checks: dict[str, None] = {}
    words: dict[str, tuple[str, ...]] = {}
    for word in segmenter.query_words(query):
        terms.update(dict.fromkeys(word.terms))
        if not word.exact:
            checks[word.text] = None
            if len(word.terms) > 1 and len(word.text) <= segmenter.MAX_TERM:
                words[word.text] = word.terms
    return _Query(tuple(terms), tuple(checks), tuple(words.items()))


def _sqlite_match(query: _Query) -> str:
    """All terms; a long word as its whole-word term OR all its pairs (the whole word
    then adds to the rank)."""
    grouped: set[str] = set()
    parts = []
    for word, pairs in query.words:
        parts.append(f"({fts_expression([word])} OR ({fts_expression(pairs)}))")
        grouped.update(pairs)
    rest = [term for term in query.terms if term not in grouped]
    if rest:
        parts.append(fts_expression(rest))
    return " AND ".join(parts)


# (dialect, restricted to ``among``) -> the newest matches with their rank.
_FIND = {
    ("sqlite", False): text(
        "SELECT ref_id, bm25(document_search) AS rank FROM document_search "
        "WHERE document_search MATCH :match AND kind = :kind "
        "ORDER BY ref_id DESC LIMIT :limit"
    ),
    ("sqlite", True): text(
        "SELECT ref_id, bm25(document_search) AS rank FROM document_search "
        "WHERE document_search MATCH :match AND kind = :kind AND ref_id IN :among "
        "ORDER BY ref_id DESC LIMIT :limit"
    ).bindparams(bindparam("among", expanding=True)),
    ("postgresql", False): text(
        "SELECT ref_id, -ts_rank(terms, :match, 1) AS rank FROM document_search "
        "WHERE kind = :kind AND terms @@ :match ORDER BY ref_id DESC LIMIT :limit"
    ).bindparams(bindparam("match", type_=TSQUERY)),
    ("postgresql", True): text(
        "SELECT ref_id, -ts_rank(terms, :match, 1) AS rank FROM document_search "
        "WHERE kind = :kind AND ref_id = ANY(:among) AND terms @@ :match "
        "ORDER BY ref_id DESC LIMIT :limit"
    ).bindparams(bindparam("match", type_=TSQUERY), bindparam("among", type_=ARRAY(BigInteger))),
}


async def find_documents(
    session: AsyncSession,
    kind: str,
    query: str,
    *,
    limit: int = 10,
    among: Collection[int] | None = None,
) -> list[int]:
    """The ref_ids of documents of ``kind`` having every word of ``query``, best match
    first (the newer on a tie), at most ``limit``; only those in ``among`` if given. The
    newest ``MAX_CANDIDATES`` matches are ranked."""
    read = _read(query)
    if not read.terms or limit < 1 or (among is not None and not among):
        return []
    connection = await session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        match = tsquery_value(read.terms, read.words)
    else:
        match = _sqlite_match(read)
    parameters: dict[str, Any] = {"match": match, "kind": kind, "limit": MAX_CANDIDATES}
    if among is not None:
        parameters["among"] = sorted(set(among))
    rows = await connection.execute(_FIND[dialect, among is not None], parameters)
    # Lower is better on both (bm25 is negative, ts_rank negated); ties newest first.
    ranked = sorted((float(rank), -int(ref_id)) for ref_id, rank in rows)
    found = [-negated for _, negated in ranked]
    if read.checks:
        found = await _checked(session, kind, read.checks, found, limit)
    return found[:limit]


async def _checked(
    session: AsyncSession, kind: str, checks: Sequence[str], ids: list[int], limit: int
) -> list[int]:
    """Those of ``ids`` whose text contains every long word, in order, until ``limit``
    (unchecked when the kind gives no texts: their pairs alone then)."""
    source = source_of(kind)
    if source is None or source.texts_of is None:
        return ids
    kept: list[int] = []
    for start in range(0, len(ids), 4 * limit):
        batch = ids[start : start + 4 * limit]
        texts = await source.texts_of(session, batch)
        for ref_id in batch:
            body = texts.get(ref_id)
            if body is not None and all(check in flat(body) for check in checks):
                kept.append(ref_id)
        if len(kept) >= limit:
            break
    return kept


def flat(body: str) -> str:
    """A text as the checks see it: normalised, runs of spaces made one."""
    return _SPACES.sub(" ", segmenter.normalise(body)).strip()


# Similar documents


def similarity_terms(text: str) -> list[str]:
    """The terms of ``text`` that may make a match: its words as the segmenter reads them
    (a pair across two words, ``厅怎``, is none) and its codes, without the function words
    and characters."""
    return sorted(
        word[: segmenter.MAX_TERM]
        for word in segmenter.words_of(text)
        if word not in STOP_WORDS and not (len(word) == 1 and word in STOP_CHARACTERS)
    )


def _inside(term: str, terms: Collection[str]) -> bool:
    return any(term != other and term in other for other in terms)


_SQLITE_ANY = text(
    "SELECT ref_id, terms FROM document_search WHERE document_search MATCH :match "
    "AND kind = :kind ORDER BY ref_id DESC LIMIT :limit"
)
_POSTGRES_ANY = text(
    "SELECT ref_id, tsvector_to_array(terms) FROM document_search "
    "WHERE kind = :kind AND terms @@ :match ORDER BY ref_id DESC LIMIT :limit"
).bindparams(bindparam("match", type_=TSQUERY))
_COUNT = text("SELECT count(*) FROM document_search WHERE kind = :kind")


async def find_similar(
    session: AsyncSession, kind: str, text: str, *, limit: int = 5
) -> list[tuple[int, float]]:
    """Documents of ``kind`` sharing any term of ``text`` (``similarity_terms``), best
    first: (ref_id, score) where the score is the share of the text's term weight (rarer
    terms weigh more) that the document has, 0..1; the newer first on a tie."""
    wanted = similarity_terms(text)
    if not wanted or limit < 1:
        return []
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        statement = _POSTGRES_ANY
        match = " | ".join(tsquery_value([term]) for term in wanted)
    else:
        statement = _SQLITE_ANY
        match = " OR ".join(fts_expression([term]) for term in wanted)
    parameters = {"match": match, "kind": kind, "limit": MAX_SIMILAR_CANDIDATES}
    candidates: list[tuple[int, set[str]]] = []
    wanted_set = set(wanted)
    for ref_id, terms in await connection.execute(statement, parameters):
        have = set(terms.split(" ")) if isinstance(terms, str) else set(terms)
        candidates.append((int(ref_id), have & wanted_set))
    if not candidates:
        return []
    total = (await connection.execute(_COUNT, {"kind": kind})).scalar_one()
    # How many documents have each term: every one that has any is among the candidates
    # (all of them, unless there were more than MAX_SIMILAR_CANDIDATES).
    counts = dict.fromkeys(wanted, 0)
    for _, shared in candidates:
        for term in shared:
            counts[term] += 1
    # Rarer terms weigh more; a word inside a longer word of the text (营业 in 营业厅, both
    # read by the segmenter) half as much, so one word does not count twice.
    weight = {
        term: math.log(1 + total / max(count, 1)) * (0.5 if _inside(term, wanted) else 1.0)
        for term, count in counts.items()
    }
    whole = sum(weight.values())
    scored = [
        (sum(weight[term] for term in shared) / whole, ref_id) for ref_id, shared in candidates
    ]
    scored.sort(key=lambda pair: (-pair[0], -pair[1]))
    return [(ref_id, round(score, 4)) for score, ref_id in scored[:limit]]
