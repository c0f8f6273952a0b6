"""Searching messages, and the custom dictionary of business terms.

A search reads the query (``syntax``), turns its words into index terms (``segmenter``)
and asks the index for candidates newest first, in the viewer's rooms only, filters joined
in (``queries``). A Chinese word of three or more characters is looked up as all of its
character pairs, which may occur apart, and a phrase as all of its terms: those candidates
are checked against their text here, a batch at a time, until the page is full or
``MAX_SCAN`` candidates were read (the cursor then continues where the scan stopped).

Ordering by relevance ranks only the newest ``RELEVANCE_POOL`` matches, in Python: whole
words above scattered characters, repeated and exact-phrase matches higher, newer first on
a tie. Ranking every match of a common word would read a large part of the index.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from counterline import segmenter
from counterline.accounts import policy
from counterline.accounts.models import User
from counterline.audit.actions import record
from counterline.days import start_of
from counterline.db import Unit
from counterline.errors import Forbidden, NotFound, UserError
from counterline.i18n import N_
from counterline.messages.indexing import rebuild_index, searchable_text
from counterline.search import documents, queries
from counterline.search.documents import rebuild_documents
from counterline.search.models import MAX_TERM_LENGTH, SearchTerm
from counterline.search.queries import Scope
from counterline.search.schemas import SearchPage, SearchTermList, SearchTermOut
from counterline.search.syntax import ME, ParsedQuery, day_of, has_of, parse

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
# Candidates read (and checked against their text) for one page at most.
MAX_SCAN = 5000
MAX_BATCH = 1000
# Relevance ranks this many of the newest matches.
RELEVANCE_POOL = 500
DICTIONARY_POLL = 60.0  # seconds between reloads of the dictionary on each server
WORD_CONTEXT = 6  # characters on each side segmented to tell a whole word (ranking)
SNIPPET_WIDTH = 120
SNIPPET_LEAD = 30  # characters shown before the first match
MAX_DOCUMENT_HITS = 5  # of each kind (notices, FAQ entries), on a search's first page
ORDERS = ("newest", "relevance")

NOBODY_NAMED = N_("Nobody is called “%(name)s”.")
NO_BRANCH_NAMED = N_("No branch is called “%(name)s”.")
NO_ROOM_NAMED = N_("You are in no room or conversation called “%(name)s”.")
DAYS_OUT_OF_ORDER = N_("The start day (after) must come before the end day (before).")
BAD_CURSOR = N_("This page of results is no longer valid: search again.")
BAD_ORDER = N_("Order results by newest or relevance.")
ONLY_EDITORS = N_("Only trainers and administrators can edit the search terms.")
BAD_TERM = N_(
    "A search term is 2 to %(max)s Chinese characters, without spaces, letters or punctuation."
)
TERM_EXISTS = N_("“%(term)s” is already a search term.")
TERM_NOT_FOUND = N_("There is no such search term.")
TERM_ADDED = "search.term_added"
TERM_REMOVED = "search.term_removed"

_CURSOR = re.compile(r"n([0-9]{1,19})|r([0-9]{1,19})\.([0-9]{1,6})")
_SPACES = re.compile(r"\s+")
_HAN_TERM = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]{2,}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchQuery:
    """A search as the API takes it: the query text, the filters as parameters (combined
    with those in ``q``: every one narrows), the order and the page. ``zone`` is the site's
    time zone, in which ``after`` and ``before`` (YYYY-MM-DD) are days."""

    zone: ZoneInfo
    q: str = ""
    room: int | None = None
    author: str | None = None
    branch: int | None = None
    after: str | None = None
    before: str | None = None
    has: str | None = None
    mentions_me: bool = False
    from_me: bool = False
    order: str = "newest"
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class _Plan:
    """A search made ready to run: ``scope`` None when nothing can match."""

    scope: Scope | None
    terms: tuple[str, ...] = ()
    # Substrings each candidate's text must contain (normalised), when its terms do not
    # prove it: long Chinese words, phrases.
    checks: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # what results highlight, normalised
    whole: tuple[str, ...] = field(default=())  # the free words together (ranking)
    long_words: tuple[queries.Word, ...] = ()  # (word, its pairs): queries.tsquery_value


async def search(unit: Unit, viewer: User, query: SearchQuery) -> SearchPage:
    """A page of the messages the viewer may read that match, newest or most relevant
    first."""
    if query.order not in ORDERS:
        raise UserError(BAD_ORDER)
    limit = max(1, min(query.limit, MAX_LIMIT))
    plan = await _plan(unit, viewer, query)
    if query.order == "relevance":
        upto, offset = _relevance_cursor(query.cursor)
        ids, cursor = await _relevant(unit, plan, upto, offset, limit)
    else:
        ids, below = await _newest(unit, plan, _newest_cursor(query.cursor), limit, MAX_SCAN)
        cursor = None if below is None else f"n{below}"
    return SearchPage.model_validate(
        {
            "results": await _results(unit, plan, ids),
            "next_cursor": cursor,
            "terms": list(plan.words),
            # The first page also lists the notices and FAQ entries with the same words.
            "documents": None if query.cursor else await _documents(unit, viewer, query, plan),
        }
    )


async def document_hits(unit: Unit, viewer: User, query: SearchQuery) -> list[dict[str, Any]]:
    """What a search's first page lists besides messages (``SearchPage.documents``): the
    search page shows them at once, before its script asks for the messages."""
    return await _documents(unit, viewer, query, await _plan(unit, viewer, query))


async def _documents(
    unit: Unit, viewer: User, query: SearchQuery, plan: _Plan
) -> list[dict[str, Any]]:
    """Up to ``MAX_DOCUMENT_HITS`` documents of each registered kind (``documents``) the
    viewer may open having every free word and phrase's words, best match first. A search
    with filters (they are about messages: author, room, day...) lists none."""
    parsed = parse(query.q)
    if _filters_messages(query, parsed) or plan.scope is None:
        return []
    words = parsed.text
    found = []
    for source in documents.sources():
        hits = await documents.find_hits(
            unit.session, source, viewer, words, limit=MAX_DOCUMENT_HITS
        )
        found += [
            {
                "kind": hit.kind,
                "id": hit.ref_id,
                "title": hit.title,
                "url": hit.url,
                "snippet_html": snippet_html(hit.text, plan.words),
            }
            for hit in hits
        ]
    return found


def _filters_messages(query: SearchQuery, parsed: ParsedQuery) -> bool:
    return bool(
        query.room is not None
        or query.author
        or query.branch is not None
        or query.after
        or query.before
        or query.has
        or query.mentions_me
        or query.from_me
        or parsed.authors
        or parsed.branches
        or parsed.rooms
        or parsed.after
        or parsed.before
        or parsed.has
        or parsed.mentions_me
    )


async def search_all(unit: Unit, viewer: User, query: SearchQuery, *, limit: int) -> list[int]:
    """Ids of up to ``limit`` matching messages the viewer may read, newest first, from
    ``query.cursor`` on (order ignored): for exports."""
    plan = await _plan(unit, viewer, query)
    ids, _ = await _newest(unit, plan, _newest_cursor(query.cursor), limit, None)
    return ids


# Reading the query


async def _plan(unit: Unit, viewer: User, query: SearchQuery) -> _Plan:
    parsed = parse(query.q)
    scope = await _scope(unit, viewer, query, parsed)
    words: dict[str, None] = {}
    terms: dict[str, None] = {}
    checks: dict[str, None] = {}
    long_words: dict[str, tuple[str, ...]] = {}
    for typed in parsed.words:
        for word in segmenter.query_words(typed):
            words[word.text] = None
            terms.update(dict.fromkeys(word.terms))
            if not word.exact:
                checks[word.text] = None
                if len(word.terms) > 1 and len(word.text) <= segmenter.MAX_TERM:
                    long_words[word.text] = word.terms
    for typed in parsed.phrases:
        phrase = _flat(segmenter.normalise(typed))
        parts = segmenter.query_words(phrase)
        for word in parts:
            terms.update(dict.fromkeys(word.terms))
        if parts:
            words[phrase] = None
            if len(parts) > 1 or not parts[0].exact or parts[0].text != phrase:
                checks[phrase] = None
    if (parsed.words or parsed.phrases) and not terms:
        scope = None  # only punctuation or symbols: no message is found by them
    whole = _whole_query(parsed)
    return _Plan(scope, tuple(terms), tuple(checks), tuple(words), whole, tuple(long_words.items()))


def _whole_query(parsed: ParsedQuery) -> tuple[str, ...]:
    """The free words as one phrase, with and without spaces (Chinese is typed either way)."""
    if len(parsed.words) < 2:
        return ()
    words = [segmenter.normalise(word) for word in parsed.words]
    return (" ".join(words), "".join(words))


async def _scope(unit: Unit, viewer: User, query: SearchQuery, parsed: ParsedQuery) -> Scope | None:
    db = unit.session
    after = [parsed.after] if parsed.after else []
    before = [parsed.before] if parsed.before else []
    after += [day_of("after", query.after)] if query.after else []
    before += [day_of("before", query.before)] if query.before else []
    start, end = (max(after) if after else None), (min(before) if before else None)
    if start is not None and end is not None and start >= end:
        raise UserError(DAYS_OUT_OF_ORDER)
    has = parsed.has | ({has_of(query.has)} if query.has else set())
    rooms = None if query.room is None else [query.room]
    for name in parsed.rooms:
        named = await queries.room_ids_named(db, name, viewer.id)
        if not named:
            raise UserError(NO_ROOM_NAMED, name=name)
        rooms = named if rooms is None else [room for room in rooms if room in named]
    authors = await _authors(unit, viewer, query, parsed)
    branches = await _branches(unit, query, parsed)
    if rooms == [] or authors == [] or branches == []:
        return None
    return Scope(
        viewer_id=viewer.id,
        room_ids=rooms,
        author_ids=authors,
        branch_ids=branches,
        start=start_of(start, query.zone),
        end=start_of(end, query.zone),
        has=frozenset(has),
        mentioning=viewer.id if (query.mentions_me or parsed.mentions_me) else None,
    )


async def _authors(
    unit: Unit, viewer: User, query: SearchQuery, parsed: ParsedQuery
) -> list[int] | None:
    """The author ids every author filter allows (None: no author filter)."""
    names = [*parsed.authors, *([query.author] if query.author else [])]
    allowed: set[int] | None = {viewer.id} if query.from_me else None
    for name in names:
        if name.lower() == ME:
            ids = {viewer.id}
        else:
            ids = set(await queries.user_ids_named(unit.session, name))
            if not ids:
                raise UserError(NOBODY_NAMED, name=name)
        allowed = ids if allowed is None else allowed & ids
    return None if allowed is None else sorted(allowed)


async def _branches(unit: Unit, query: SearchQuery, parsed: ParsedQuery) -> list[int] | None:
    allowed: set[int] | None = {query.branch} if query.branch is not None else None
    for name in parsed.branches:
        ids = set(await queries.branch_ids_named(unit.session, name))
        if not ids:
            raise UserError(NO_BRANCH_NAMED, name=name)
        allowed = ids if allowed is None else allowed & ids
    return None if allowed is None else sorted(allowed)


def _newest_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    match = _CURSOR.fullmatch(cursor)
    if match is None or match.group(1) is None:
        raise UserError(BAD_CURSOR)
    return int(match.group(1))


def _relevance_cursor(cursor: str | None) -> tuple[int | None, int]:
    if not cursor:
        return None, 0
    match = _CURSOR.fullmatch(cursor)
    if match is None or match.group(2) is None:
        raise UserError(BAD_CURSOR)
    return int(match.group(2)), int(match.group(3))


# Finding


async def _newest(
    unit: Unit, plan: _Plan, below: int | None, limit: int, scan_bound: int | None
) -> tuple[list[int], int | None]:
    """Up to ``limit`` matching ids below ``below``, newest first, and where the next page
    starts (None: no more)."""
    if plan.scope is None:
        return [], None
    if not plan.checks:
        ids = await queries.candidate_ids(
            unit.session,
            plan.scope,
            plan.terms,
            below=below,
            limit=limit + 1,
            words=plan.long_words,
        )
        return (ids[:limit], ids[limit - 1]) if len(ids) > limit else (ids, None)
    found: list[int] = []
    scanned, size = 0, 2 * limit + 1
    while True:
        batch = await queries.candidate_ids(
            unit.session, plan.scope, plan.terms, below=below, limit=size, words=plan.long_words
        )
        scanned += len(batch)
        texts = await _texts(unit, batch)
        found += [message_id for message_id in batch if _passes(plan, texts[message_id])]
        if len(found) > limit:
            return found[:limit], found[limit - 1]
        if len(batch) < size:
            return found, None
        below = batch[-1]
        if scan_bound is not None and scanned >= scan_bound:
            return found, below
        size = min(size * 4, MAX_BATCH)


async def _relevant(
    unit: Unit, plan: _Plan, upto: int | None, offset: int, limit: int
) -> tuple[list[int], str | None]:
    """A page of the newest ``RELEVANCE_POOL`` matches below ``upto``, best first. The
    cursor keeps ``upto`` so the pool stays the same from page to page."""
    pool, _ = await _newest(unit, plan, upto, RELEVANCE_POOL, MAX_SCAN)
    if not pool:
        return [], None
    upto = pool[0] + 1 if upto is None else upto
    texts = await _texts(unit, pool)
    ranked = sorted(
        pool,
        key=lambda message_id: (-_score(plan, texts[message_id]), -message_id),
    )
    page = ranked[offset : offset + limit]
    more = offset + limit < len(ranked)
    return page, (f"r{upto}.{offset + limit}" if more else None)


def _score(plan: _Plan, text: str) -> float:
    """How well a text matches: each word counts, more as a whole word and when repeated;
    the free words together as typed count most. Ties go to the newer message."""
    score = 0.0
    for word in plan.words:
        count = text.count(word)
        score += min(count, 3) * 0.5 + (2.0 if _whole_word(word, text) else 0.0)
    if any(whole in text for whole in plan.whole):
        score += 3.0
    return score


def _whole_word(word: str, text: str) -> bool:
    """Whether ``word`` stands as a word of its own at one of its first occurrences:
    segmenting a few characters around each is enough, and far cheaper than the text."""
    at = text.find(word)
    for _ in range(3):
        if at == -1:
            return False
        start = max(0, at - WORD_CONTEXT)
        if word in segmenter.words_of(text[start : at + len(word) + WORD_CONTEXT]):
            return True
        at = text.find(word, at + 1)
    return False


async def _texts(unit: Unit, ids: Sequence[int]) -> dict[int, str]:
    """Each message's searchable text, normalised as the checks are."""
    found = await queries.texts_of(unit.session, ids)
    return {
        message_id: _flat(segmenter.normalise(searchable_text(body, names)))
        for message_id, (body, names) in found.items()
    }


def _passes(plan: _Plan, text: str | None) -> bool:
    return text is not None and all(check in text for check in plan.checks)


def _flat(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


# Showing


async def _results(unit: Unit, plan: _Plan, ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = await queries.result_rows(unit.session, ids)
    results = []
    for message_id in ids:
        if message_id not in rows:
            continue
        row, files = rows[message_id]
        results.append(
            {
                "message_id": row.id,
                "room": {"id": row.room_id, "name": row.room_name, "kind": row.room_kind},
                "author": {
                    "id": row.author_id,
                    "username": row.author_username,
                    "display_name": row.author_display_name,
                },
                "branch": {"id": row.branch_id, "name": row.branch_name},
                "created_at": row.created_at,
                "snippet_html": snippet_html(row.body, plan.words),
                "attachments": [{"name": name, "kind": kind} for name, kind in files],
            }
        )
    return results


def snippet_html(body: str, words: Sequence[str], width: int = SNIPPET_WIDTH) -> str:
    """About ``width`` characters of ``body`` around its first match, HTML-escaped, each
    occurrence of ``words`` (normalised) wrapped in ``<mark>``."""
    plain = _flat(body)
    folded, origin = _folded(plain)
    spans = _spans(folded, origin, words)
    first = spans[0][0] if spans else 0
    start = max(0, first - SNIPPET_LEAD)
    end = min(len(plain), start + width)
    start = max(0, end - width)
    pieces = ["…"] if start > 0 else []
    at = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end or span_start < at:
            continue
        pieces.append(html.escape(plain[at:span_start]))
        pieces.append("<mark>" + html.escape(plain[span_start:span_end]) + "</mark>")
        at = span_end
    pieces.append(html.escape(plain[at:end]))
    if end < len(plain):
        pieces.append("…")
    return "".join(pieces)


def _folded(text: str) -> tuple[str, list[int]]:
    """The text normalised character by character, and for each normalised character the
    index of the character it came from (NFKC can turn one character into several)."""
    whole = segmenter.normalise(text)
    if len(whole) == len(text):  # nearly always: one character for one
        return whole, list(range(len(text)))
    characters: list[str] = []
    origin: list[int] = []
    for index, character in enumerate(text):
        folded = segmenter.normalise(character)
        characters.append(folded)
        origin.extend([index] * len(folded))
    return "".join(characters), origin


def _spans(folded: str, origin: list[int], words: Sequence[str]) -> list[tuple[int, int]]:
    """Where the words occur, as (start, end) in the original text, in order, without
    overlaps (a longer word wins over one inside it)."""
    taken = [False] * len(folded)
    spans = []
    for word in sorted(set(words), key=len, reverse=True):
        if not word:
            continue
        at = folded.find(word)
        while at != -1:
            stop = at + len(word)
            if not any(taken[at:stop]):
                taken[at:stop] = [True] * (stop - at)
                spans.append((origin[at], origin[stop - 1] + 1))
            at = folded.find(word, stop)
    return sorted(spans)


# The custom dictionary


async def load_dictionary(unit: Unit) -> None:
    """Give this process's segmenter the dictionary's terms (at start-up, after a change)."""
    words = await queries.all_terms(unit.session)
    # Rebuilding the segmenter after a removal takes ~0.1 s of CPU: not on the event loop.
    await asyncio.to_thread(segmenter.use_words, words)


async def follow_dictionary(
    reading: Callable[[], AbstractAsyncContextManager[Unit]], every: float = DICTIONARY_POLL
) -> None:
    """Reload the dictionary every ``every`` seconds (a change made through another server;
    unchanged terms cost one small query). Recall never waits for it: the character pairs
    find every word."""
    while True:
        await asyncio.sleep(every)
        try:
            async with reading() as unit:
                await load_dictionary(unit)
        except Exception:
            log.exception("reloading the search dictionary failed; trying again later")


@dataclass(frozen=True, slots=True)
class Reindexed:
    messages: int
    documents: int


async def reindex(unit: Unit) -> Reindexed:
    """Index every message, and every document of the kinds registered (notices, FAQ
    entries: ``documents``), again with the dictionary as it is now; how many of each."""
    await load_dictionary(unit)
    connection = await unit.session.connection()
    indexed = await connection.run_sync(rebuild_index)
    documents = await rebuild_documents(unit.session)
    if connection.dialect.name == "postgresql":
        await connection.execute(text("ANALYZE message_search"))  # the planner's term counts
    return Reindexed(indexed, documents)


async def list_terms(unit: Unit) -> SearchTermList:
    rows = await queries.list_terms(unit.session)
    return SearchTermList(
        terms=[_term_out(row.id, row.term, row.username, row.created_at) for row in rows]
    )


async def add_term(unit: Unit, editor: User, term: str, client_ip: str) -> SearchTermOut:
    """Add a business term (trainers and administrators). Existing messages get it as a
    term at the next ``counterline search reindex``; they are found by its characters
    meanwhile."""
    _check_editor(editor)
    term = unicodedata.normalize("NFKC", term).strip()
    if len(term) > MAX_TERM_LENGTH or not _HAN_TERM.fullmatch(term):
        raise UserError(BAD_TERM, max=MAX_TERM_LENGTH)
    if await queries.find_term(unit.session, term) is not None:
        raise UserError(TERM_EXISTS, status_code=409, term=term)
    added = SearchTerm(term=term, created_by_id=editor.id)
    unit.session.add(added)
    await unit.session.flush()
    record(
        unit,
        TERM_ADDED,
        actor_id=editor.id,
        target=f"search_term:{added.id}",
        client_ip=client_ip,
        term=term,
    )
    return _term_out(added.id, term, editor.username, added.created_at)


async def remove_term(unit: Unit, editor: User, term_id: int, client_ip: str) -> str:
    """Remove a business term; the term removed."""
    _check_editor(editor)
    term = await unit.session.get(SearchTerm, term_id)
    if term is None:
        raise NotFound(TERM_NOT_FOUND)
    await unit.session.delete(term)
    await unit.session.flush()
    record(
        unit,
        TERM_REMOVED,
        actor_id=editor.id,
        target=f"search_term:{term_id}",
        client_ip=client_ip,
        term=term.term,
    )
    return term.term


def _check_editor(editor: User) -> None:
    if not policy.edits_search_terms(editor.role):
        raise Forbidden(ONLY_EDITORS)


def _term_out(term_id: int, term: str, username: str, created_at: datetime) -> SearchTermOut:
    return SearchTermOut(id=term_id, term=term, created_by=username, created_at=created_at)
