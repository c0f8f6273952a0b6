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

``find_hits`` is what a search's first page lists: one statement per kind, filtering what
the viewer may open in SQL (the kind's SELECT joined in, built once per kind of viewer)
and reading the hits' rows with their rank.

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

from sqlalchemy import (
    Row,
    Select,
    Text,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from counterline import segmenter
from counterline.accounts.models import User
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
    (plain text), ``url`` where it opens, ``time`` when it was written or last changed,
    ``searched`` the text it is indexed under (a long word is checked in it)."""

    kind: str
    ref_id: int
    title: str
    url: str
    text: str
    searched: str
    time: datetime | None = None


# (session, after ref_id, limit) -> [(ref_id, text)] in ref_id order: every document of the
# kind that should be in the index, a batch at a time (``rebuild_documents``).
TextsAfter = Callable[[AsyncSession, int, int], Awaitable[Sequence[tuple[int, str]]]]
# (session, ref_ids) -> {ref_id: text}: the texts of these documents (long words' check).
TextsOf = Callable[[AsyncSession, Collection[int]], Awaitable[Mapping[int, str]]]
# viewer -> (a SELECT of the rows of the documents the viewer may open, its ref_id labelled
# ``id``; its parameters' values for this viewer). The SELECT is built once per kind of
# viewer, not per call: ``find_hits`` builds its statement around it once and keeps it.
Readable = Callable[[User], tuple[Select[Any], Mapping[str, Any]]]
# A row of that SELECT as a search result shows it.
HitOf = Callable[[Row[Any]], DocumentHit]


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentSource:
    """What a capability tells search about its kind of document. ``label`` is the msgid
    (``N_``) of the kind's section on the search page."""

    kind: str
    label: str
    texts_after: TextsAfter
    readable: Readable
    hit_of: HitOf
    texts_of: TextsOf | None = None


_sources: dict[str, DocumentSource] = {}


def register_source(
    kind: str,
    *,
    label: str,
    texts_after: TextsAfter,
    readable: Readable,
    hit_of: HitOf,
    texts_of: TextsOf | None = None,
) -> DocumentSource:
    """Make a kind of document known to search (again: the last registration wins)."""
    if not 0 < len(kind) <= MAX_KIND_LENGTH:
        raise ValueError(f"a document kind is 1 to {MAX_KIND_LENGTH} characters: {kind!r}")
    source = DocumentSource(
        kind=kind,
        label=label,
        texts_after=texts_after,
        readable=readable,
        hit_of=hit_of,
        texts_of=texts_of,
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


def _match(dialect: str, query: _Query) -> str:
    if dialect == "postgresql":
        return tsquery_value(query.terms, query.words)
    return _sqlite_match(query)


# dialect -> the newest matches with their rank.
_FIND = {
    "sqlite": text(
        "SELECT ref_id, bm25(document_search) AS rank FROM document_search "
        "WHERE document_search MATCH :match AND kind = :kind "
        "ORDER BY ref_id DESC LIMIT :limit"
    ),
    "postgresql": text(
        "SELECT ref_id, -ts_rank(terms, :match, 1) AS rank FROM document_search "
        "WHERE kind = :kind AND terms @@ :match ORDER BY ref_id DESC LIMIT :limit"
    ).bindparams(bindparam("match", type_=TSQUERY)),
}


async def find_documents(
    session: AsyncSession,
    kind: str,
    query: str,
    *,
    limit: int = 10,
) -> list[int]:
    """The ref_ids of documents of ``kind`` having every word of ``query``, best match
    first (the newer on a tie), at most ``limit``. The newest ``MAX_CANDIDATES`` matches
    are ranked."""
    read = _read(query)
    if not read.terms or limit < 1:
        return []
    connection = await session.connection()
    dialect = connection.dialect.name
    parameters: dict[str, Any] = {
        "match": _match(dialect, read),
        "kind": kind,
        "limit": MAX_CANDIDATES,
    }
    rows = await connection.execute(_FIND[dialect], parameters)
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
            if body is not None and _contains(body, checks):
                kept.append(ref_id)
        if len(kept) >= limit:
            break
    return kept


def flat(body: str) -> str:
    """A text as the checks see it: normalised, runs of spaces made one."""
    return _SPACES.sub(" ", segmenter.normalise(body)).strip()


def _contains(body: str, checks: Sequence[str]) -> bool:
    if not checks:
        return True
    text = flat(body)
    return all(check in text for check in checks)


# Hits for a viewer


_INDEX = table("document_search", column("kind"), column("ref_id"), column("terms"))
# (dialect, kind, the kind's SELECT for a kind of viewer) -> ``_hits_statement``.
_HITS: dict[tuple[str, str, Select[Any]], Select[Any]] = {}


def _hits_statement(dialect: str, kind: str, readable: Select[Any]) -> Select[Any]:
    """One statement: the newest ``:pool`` matches among the documents the viewer may open
    (joined in SQL), ranked, best first (the newer on a tie), with their rows from
    ``readable``; ``:limit`` of them from ``:offset``."""
    if dialect == "postgresql":
        match = bindparam("match", type_=TSQUERY)
        found = _INDEX.c.terms.bool_op("@@")(match)
        # ts_rank is higher for a better match; negated, lower is better as with bm25.
        rank = -func.ts_rank(_INDEX.c.terms, match, 1)
    else:
        found = literal_column("document_search").bool_op("MATCH")(bindparam("match"))
        rank = func.bm25(literal_column("document_search"))
    visible = readable.subquery("visible")
    candidates = (
        select(_INDEX.c.ref_id, rank.label("rank"))
        .join_from(_INDEX, visible, visible.c.id == _INDEX.c.ref_id)
        .where(found, _INDEX.c.kind == kind)
        .order_by(_INDEX.c.ref_id.desc())
        .limit(bindparam("pool"))
        .subquery("candidates")
    )
    # The rows are read again for the page only: carried through the pool's sort, all the
    # matches' texts made SQLite's statement slower (bench.document_search).
    rows = readable.subquery("rows")
    return (
        select(rows)
        .join_from(candidates, rows, rows.c.id == candidates.c.ref_id)
        .order_by(candidates.c.rank, candidates.c.ref_id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


async def find_hits(
    session: AsyncSession, source: DocumentSource, viewer: User, query: str, *, limit: int
) -> list[DocumentHit]:
    """The documents of ``source`` the viewer may open having every word of ``query``,
    best match first (the newer on a tie), at most ``limit``: as ``find_documents`` ranks
    them, but what the viewer may open is filtered and the rows are read in the same
    statement (one, unless a long word's check turns down more than 3 in 4)."""
    read = _read(query)
    if not read.terms or limit < 1:
        return []
    connection = await session.connection()
    dialect = connection.dialect.name
    readable, values = source.readable(viewer)
    key = (dialect, source.kind, readable)
    statement = _HITS.get(key)
    if statement is None:
        statement = _HITS[key] = _hits_statement(dialect, source.kind, readable)
    batch = 4 * limit if read.checks else limit
    parameters = {**values, "match": _match(dialect, read), "pool": MAX_CANDIDATES}
    hits: list[DocumentHit] = []
    for offset in range(0, MAX_CANDIDATES, batch):
        rows = (
            await connection.execute(statement, {**parameters, "limit": batch, "offset": offset})
        ).all()
        for hit in map(source.hit_of, rows):
            if _contains(hit.searched, read.checks):
                hits.append(hit)
                if len(hits) == limit:
                    return hits
        if len(rows) < batch:
            break
    return hits


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
