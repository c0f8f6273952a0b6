"""A search's documents for one viewer (search.documents.find_hits): one statement per
kind, which filters what the viewer may open in SQL before the newest candidates are
taken, reads the hits' rows, and is read on in batches while a long word's check turns
candidates down. In-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

from counterline.accounts.models import User
from counterline.faq.actions import write_entry
from counterline.faq.schemas import FaqEntryIn
from counterline.notices.actions import publish
from counterline.notices.models import Notice
from counterline.notices.schemas import NoticeIn
from counterline.search import documents
from counterline.search.documents import find_hits, source_of
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.test_notices import notice_body

IP = "127.0.0.1"


async def published(services: Services, cast: Cast, title: str, branch: str) -> int:
    body = notice_body(
        cast,
        title=title,
        body="宽带移机须核验机主身份证原件。",
        audience={"branch_ids": [cast.branch_ids[branch]]},
    )
    async with services.transaction() as unit:
        author = await unit.session.get(User, cast["zhangwei"].id)
        notice, _ = await publish(unit, author, NoticeIn.model_validate(body), client_ip=IP)
        return notice.id


async def written(services: Services, cast: Cast, question: str, answer: str) -> int:
    async with services.transaction() as unit:
        trainer = await unit.session.get(User, cast["zhangwei"].id)
        entry = FaqEntryIn(question=question, answer=answer)
        return (await write_entry(unit, trainer, entry, client_ip=IP)).id


async def found(services: Services, cast: Cast, kind: str, name: str, query: str) -> list[int]:
    source = source_of(kind)
    assert source is not None
    async with services.reading() as unit:
        viewer = await unit.session.get(User, cast[name].id)
        hits = await find_hits(unit.session, source, viewer, query, limit=5)
    return [hit.ref_id for hit in hits]


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    run: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        run.append(statement)

    engine = services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield run
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_each_kind_finds_a_viewers_hits_with_their_rows_in_one_statement(
    services: Services, cast: Cast
) -> None:
    notice_id = await published(services, cast, "宽带新规", CHENGBEI)
    entry_id = await written(services, cast, "宽带移机要带什么", "带身份证原件。")
    async with services.reading() as unit:
        clerk = await unit.session.get(User, cast["wangfang"].id)
        await unit.session.connection()
        hits = []
        for source in documents.sources():
            with statements(services) as run:
                hits += await find_hits(unit.session, source, clerk, "宽带 身份证", limit=5)
            assert len(run) == 1, (source.kind, run)
    assert [(hit.kind, hit.ref_id, hit.title, hit.url) for hit in hits] == [
        ("notice", notice_id, "宽带新规", f"/notices/{notice_id}"),
        ("faq", entry_id, "宽带移机要带什么", f"/faq/{entry_id}"),
    ]


async def test_a_notice_is_found_only_by_who_may_open_it_even_while_archived_in_the_index(
    services: Services, cast: Cast
) -> None:
    chengbei = await published(services, cast, "城北宽带", CHENGBEI)
    huaqiao = await published(services, cast, "花桥宽带", HUAQIAO)
    archived = await published(services, cast, "旧宽带", CHENGBEI)
    async with services.transaction() as unit:  # archived, but still indexed
        await unit.session.execute(
            update(Notice).where(Notice.id == archived).values(archived=True)
        )
    seen = {
        name: await found(services, cast, "notice", name, "宽带")
        for name in ("wangfang", "lina", "zhaomin", "zhangwei", "chengang")
    }
    assert seen == {
        "wangfang": [chengbei],
        "lina": [huaqiao],
        "zhaomin": [chengbei],  # the manager of 城北: what reaches her branch
        "zhangwei": [huaqiao, chengbei],  # trainers and administrators: every notice
        "chengang": [huaqiao, chengbei],
    }


async def test_the_newest_candidates_are_taken_among_what_the_viewer_may_open(
    services: Services, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = await published(services, cast, "城北宽带", CHENGBEI)
    for number in range(3):  # newer, and not for 王芳
        await published(services, cast, f"花桥宽带{number}", HUAQIAO)
    monkeypatch.setattr(documents, "MAX_CANDIDATES", 2)
    assert await found(services, cast, "notice", "wangfang", "宽带") == [mine]


async def test_a_long_word_turned_down_in_a_whole_batch_is_found_in_the_next(
    services: Services, cast: Cast
) -> None:
    whole = await written(
        services, cast, "携号转网", "客户办理携号转网业务时，需先查询是否满足条件，再办理。"
    )
    for number in range(5):  # all the pairs, never the word: ranked above it, turned down
        await written(services, cast, f"携号{number}", "携号，号转，转网。携号，号转，转网。")
    source = source_of("faq")
    assert source is not None
    async with services.reading() as unit:
        viewer = await unit.session.get(User, cast["lina"].id)
        first = await find_hits(unit.session, source, viewer, "携号转网", limit=1)
        every = await find_hits(unit.session, source, viewer, "携号 号转 转网", limit=6)
    assert [hit.ref_id for hit in first] == [whole]
    assert every[-1].ref_id == whole and len(every) == 6  # the pairs rank the others first
