"""Newest-first candidates when matches are far apart: on PostgreSQL a search reads the
newest rows in windows and turns to the GIN index once its words are rare
(``search.queries._postgres_newest``); whichever way it goes, and on SQLite, the page is
the newest matches in the viewer's rooms, and a page below a cursor continues it.

The windows are made a few rows wide here, so a corpus of a few dozen messages crosses
many of them; the term statistics (``search.term_shares``) are set to each case a search
may meet: none yet, a common word, a rare one, words common alone and rare together.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import text

from counterline.search import queries, term_shares
from counterline.search.queries import Scope, candidate_ids
from counterline.search.term_shares import TermShares
from counterline.segmenter import query_words
from counterline.services import Services
from tests.cast import CHENGBEI, Cast
from tests.support.clients import Client, post

WORD = "窗口"
LONG = "窗口排班"  # found by its pairs 窗口, 口排, 排班 (and its own term where indexed)
FILLER = "今天营业厅排队较长，请注意分流"
# Where the word is, among 40 messages (0 oldest): a run, then wider and wider gaps.
AT = (0, 1, 2, 3, 9, 17, 18, 30, 38)

STATISTICS = {
    "none yet": None,
    "a common word": TermShares({WORD: 0.3, "窗": 0.3, "口": 0.3}, floor=0.2, rows=40),
    "a rare word": TermShares({}, floor=0.001, rows=40),
    # 窗口 and 调整 each common, rare together if they were independent: a first look.
    "rare together": TermShares({WORD: 0.2, "调整": 0.2}, floor=0.001, rows=20),
}


@pytest.fixture(params=sorted(STATISTICS))
def narrow_windows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Windows of a few rows, and the term statistics of one case."""
    monkeypatch.setattr(queries, "MIN_WINDOW", 2)
    monkeypatch.setattr(queries, "FIRST_WINDOW", 3)
    monkeypatch.setattr(queries, "MAX_FIRST_WINDOW", 4)
    monkeypatch.setattr(queries, "PROBE_WINDOW", 2)
    monkeypatch.setattr(queries, "MAX_WINDOW", 6)
    monkeypatch.setattr(queries, "RARE_MATCHES", 1)
    shares = STATISTICS[request.param]

    async def statistics(connection: object) -> TermShares | None:
        return shares

    monkeypatch.setattr(queries, "term_shares", statistics)
    return str(request.param)


async def post_apart(
    client: Client, room_id: int, body: str, tag: str
) -> tuple[list[int], list[int]]:
    """40 messages, ``body`` in those at ``AT``: (every id, the ids with ``body``), oldest
    first."""
    every, matching = [], []
    for n in range(40):
        text_ = f"{body}第{n}号调整" if n in AT else f"{FILLER}{n}"
        message_id = await post(client, room_id, text_, f"windows-{tag}-{n:03}")
        every.append(message_id)
        if n in AT:
            matching.append(message_id)
    return every, matching


async def candidates(
    services: Services, scope: Scope, query: str, *, below: int | None = None, limit: int
) -> list[int]:
    words = query_words(query)
    terms = [term for word in words for term in word.terms]
    long = [(w.text, w.terms) for w in words if not w.exact and len(w.terms) > 1]
    async with services.reading() as unit:
        return await candidate_ids(unit.session, scope, terms, below=below, limit=limit, words=long)


async def pages(services: Services, scope: Scope, query: str, size: int) -> list[list[int]]:
    """Every page of ``size`` candidates, each below the last one of the page before."""
    found: list[list[int]] = []
    below = None
    for _ in range(100):  # a cursor that does not move on must fail, not loop
        page = await candidates(services, scope, query, below=below, limit=size)
        if page:
            found.append(page)
        if len(page) < size:
            return found
        below = page[-1]
    raise AssertionError(f"more than 100 pages: {found[:3]}…")


def in_pages(ids: Sequence[int], size: int) -> list[list[int]]:
    newest = sorted(ids, reverse=True)
    return [newest[i : i + size] for i in range(0, len(newest), size)]


async def test_a_word_whose_newest_matches_are_far_apart_gives_the_newest_pages(
    narrow_windows: str, login, cast: Cast, services: Services
) -> None:
    """In one room and everywhere the viewer reads."""
    wang = await login("wangfang")
    branch = cast.branch_room_ids[CHENGBEI]
    _, in_company = await post_apart(wang, cast.company_room_id, WORD, "company")
    _, in_branch = await post_apart(wang, branch, WORD, "branch")
    everywhere = Scope(viewer_id=cast["wangfang"].id)
    one_room = Scope(viewer_id=cast["wangfang"].id, room_ids=[branch])
    for size in (1, 2, 3, 5, 7, 50):
        assert await pages(services, one_room, WORD, size) == in_pages(in_branch, size), size
        assert await pages(services, everywhere, WORD, size) == in_pages(
            in_company + in_branch, size
        ), size


async def test_a_long_word_is_found_by_its_pairs_across_the_windows(
    narrow_windows: str, login, cast: Cast, services: Services
) -> None:
    wang = await login("wangfang")
    _, matching = await post_apart(wang, cast.company_room_id, LONG, "long")
    everywhere = Scope(viewer_id=cast["wangfang"].id)
    for size in (2, 3, 20):
        assert await pages(services, everywhere, LONG, size) == in_pages(matching, size), size


async def test_two_words_are_found_together_across_the_windows(
    narrow_windows: str, login, cast: Cast, services: Services
) -> None:
    wang = await login("wangfang")
    _, matching = await post_apart(wang, cast.company_room_id, WORD, "two")
    await post(wang, cast.company_room_id, "调整后再说", "windows-two-only-one")
    everywhere = Scope(viewer_id=cast["wangfang"].id)
    for size in (1, 3, 20):
        assert await pages(services, everywhere, f"{WORD} 调整", size) == in_pages(
            matching, size
        ), size


async def test_a_word_only_in_the_oldest_messages_is_found_past_every_window(
    narrow_windows: str, login, cast: Cast, services: Services
) -> None:
    wang = await login("wangfang")
    oldest = [
        await post(wang, cast.company_room_id, f"{WORD}第{n}号", f"windows-old-{n}")
        for n in range(3)
    ]
    for n in range(30):
        await post(wang, cast.company_room_id, f"{FILLER}{n}", f"windows-new-{n:03}")
    everywhere = Scope(viewer_id=cast["wangfang"].id)
    one_room = Scope(viewer_id=cast["wangfang"].id, room_ids=[cast.company_room_id])
    for scope in (everywhere, one_room):
        assert await candidates(services, scope, WORD, limit=20) == oldest[::-1]
        assert await candidates(services, scope, WORD, limit=2) == oldest[:0:-1]
        assert await candidates(services, scope, WORD, below=oldest[1], limit=20) == oldest[:1]


async def test_nobody_finds_through_the_windows_what_they_may_not_read(
    narrow_windows: str, login, cast: Cast, services: Services
) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    secret = cast.branch_room_ids[CHENGBEI]  # wangfang's branch room; lina is not in it
    _, hidden = await post_apart(wang, secret, WORD, "secret")
    _, shared = await post_apart(li, cast.company_room_id, WORD, "shared")
    lina = cast["lina"].id
    for size in (1, 4, 50):
        assert await pages(services, Scope(viewer_id=lina), WORD, size) == in_pages(shared, size)
    assert (
        await candidates(services, Scope(viewer_id=lina, room_ids=[secret]), WORD, limit=50) == []
    )
    both = Scope(viewer_id=lina, room_ids=[secret, cast.company_room_id])
    assert await candidates(services, both, WORD, limit=50) == sorted(shared, reverse=True)
    assert await candidates(services, Scope(viewer_id=cast["wangfang"].id), WORD, limit=50) == (
        sorted(hidden + shared, reverse=True)
    )


async def test_the_term_statistics_are_read_from_the_database(
    login, cast: Cast, services: Services, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("term statistics are PostgreSQL's (SQLite's FTS5 walks its index newest first)")
    wang = await login("wangfang")
    await post_apart(wang, cast.company_room_id, WORD, "stats")
    async with services.transaction() as unit:
        await unit.session.execute(text("ANALYZE message_search"))
    term_shares.forget()
    try:
        async with services.reading() as unit:
            shares = await term_shares.term_shares(await unit.session.connection())
    finally:
        term_shares.forget()
    assert shares is not None
    assert shares.rows >= 40
    assert shares.of(WORD) == pytest.approx(len(AT) / shares.rows)
    assert shares.of("从未出现") == shares.floor < shares.of(WORD)
    pairs = ("窗口", "口排", "排班")
    assert shares.at_most(["窗口", "口排", "排班"], [(LONG, pairs)]) <= shares.of(WORD)
