"""Notices in search (notices/documents.py, search.documents): the global search lists the
notices with the words beside the messages, to the people who may open them only; a
revision's words replace the earlier ones, an archived notice is gone, and
`counterline search reindex` rebuilds them. Over real HTTP against the live server."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text

from counterline.accounts.models import User
from counterline.audit.models import AuditEntry
from counterline.errors import Forbidden
from counterline.migrate import alembic_config
from counterline.notices import actions as notice_actions
from counterline.search.documents import find_documents, find_hits, source_of
from counterline.services import Services
from tests.cast import CHENGBEI, Cast
from tests.support.cli import run_cli
from tests.support.clients import Client, post
from tests.test_notices import notice_body, published

SEARCH = "/api/v1/search"


async def search(client: Client, q: str, **params: Any) -> dict[str, Any]:
    response = await client.http.get(SEARCH, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def notices_found(client: Client, q: str, **params: Any) -> list[int]:
    documents = (await search(client, q, **params))["documents"]
    return [document["id"] for document in documents if document["kind"] == "notice"]


def to_chengbei(cast: Cast, **overrides: Any) -> dict[str, Any]:
    """A notice for 城北营业厅 only: 王芳 and 赵敏 (its manager) are in it, 李娜 is not."""
    chosen = {
        "title": "宽带移机新规",
        "body": "宽带移机须核验机主身份证原件，资源编码 B1E-0D7 停用。",
        "audience": {"branch_ids": [cast.branch_ids[CHENGBEI]]},
    }
    return notice_body(cast, **{**chosen, **overrides})


async def revise(client: Client, notice_id: int, body: str) -> None:
    response = await client.http.post(
        f"/api/v1/notices/{notice_id}/revisions",
        json={"body": body, "changes": "改规定", "requires_ack": False},
        headers={"X-CSRF-Token": client.csrf_token},
    )
    assert response.status_code == 201, response.text


async def test_a_notice_is_found_by_a_word_of_its_body_by_who_may_open_it_only(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, to_chengbei(cast))
    clerk, outsider = await login("wangfang"), await login("lina")
    manager, admin = await login("zhaomin"), await login("chengang")
    page = await search(clerk, "身份证")
    assert page["documents"] == [
        {
            "kind": "notice",
            "id": notice_id,
            "title": "宽带移机新规",
            "url": f"/notices/{notice_id}",
            "snippet_html": "宽带移机须核验机主<mark>身份证</mark>原件，资源编码 B1E-0D7 停用。",
        }
    ]
    assert await notices_found(clerk, "b1e-0d7") == [notice_id]  # a code, in any case
    assert await notices_found(clerk, "移机") == [notice_id]  # a word of its title
    assert await notices_found(clerk, "邮政") == []
    assert await notices_found(outsider, "身份证") == []  # a clerk outside its audience
    assert await notices_found(manager, "身份证") == [notice_id]  # it reaches her branch
    assert await notices_found(admin, "身份证") == [notice_id]
    assert await notices_found(trainer, "身份证") == [notice_id]  # its author


async def test_a_hit_is_described_only_to_who_may_open_the_notice(
    login, services: Services, cast: Cast
) -> None:
    notice_id = await published(await login("zhangwei"), to_chengbei(cast))
    source = source_of("notice")
    assert source is not None
    async with services.reading() as unit:
        people = {
            name: await unit.session.get(User, cast[name].id) for name in ("wangfang", "lina")
        }
        seen = await find_hits(unit.session, source, people["wangfang"], "身份证", limit=5)
        hidden = await find_hits(unit.session, source, people["lina"], "身份证", limit=5)
    assert [(hit.ref_id, hit.title, hit.url) for hit in seen] == [
        (notice_id, "宽带移机新规", f"/notices/{notice_id}")
    ]
    assert hidden == []


async def test_a_manager_finds_the_notices_reaching_her_branch_not_addressed_to_her(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    to_one = to_chengbei(cast, audience={"user_ids": [cast["wangfang"].id]})
    notice_id = await published(trainer, to_one)
    assert await notices_found(await login("zhaomin"), "身份证") == [notice_id]
    assert await notices_found(await login("wangfang"), "身份证") == [notice_id]
    elsewhere = to_chengbei(cast, audience={"user_ids": [cast["lina"].id]})
    other_id = await published(trainer, elsewhere)  # reaches 花桥营业厅 only
    assert await notices_found(await login("zhaomin"), "身份证") == [notice_id]
    # A clerk sees only what is addressed to her, not all that reaches her branch.
    assert await notices_found(await login("zhouqiang"), "身份证") == []
    assert await notices_found(await login("lina"), "身份证") == [other_id]


async def test_a_revision_replaces_the_words_a_notice_is_found_by(login, cast: Cast) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, to_chengbei(cast))
    clerk = await login("wangfang")
    await revise(trainer, notice_id, "宽带移机改为线上预约，户口簿即可。")
    assert await notices_found(clerk, "户口簿") == [notice_id]
    assert await notices_found(clerk, "身份证") == []
    assert await notices_found(clerk, "移机") == [notice_id]  # still in title and body


async def test_an_archived_notice_is_no_longer_found(login, services: Services, cast: Cast) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, to_chengbei(cast))
    kept = await published(trainer, to_chengbei(cast, title="身份证核验"))
    clerk = await login("wangfang")
    assert await notices_found(clerk, "身份证") == [kept, notice_id]
    archived = await trainer.http.delete(
        f"/api/v1/notices/{notice_id}", headers={"X-CSRF-Token": trainer.csrf_token}
    )
    assert archived.status_code == 204
    assert (await clerk.http.get(f"/api/v1/notices/{notice_id}")).status_code == 404
    assert await notices_found(clerk, "身份证") == [kept]
    assert await notices_found(await login("chengang"), "身份证") == [kept]
    async with services.reading() as unit:
        indexed = await find_documents(unit.session, "notice", "核验")  # no text check
        entry = await unit.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "notice.archived")
        )
    assert indexed == [kept]
    assert entry is not None and entry.target == f"notice:{notice_id}"


async def test_documents_come_on_the_first_page_only_and_not_with_message_filters(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, to_chengbei(cast))
    clerk = await login("wangfang")
    for number in range(3):
        await post(
            clerk, cast.company_room_id, f"客户问身份证的事 {number}", f"noticesearch-{number}"
        )
    first = await search(clerk, "身份证", limit=2)
    assert [d["id"] for d in first["documents"]] == [notice_id]
    assert len(first["results"]) == 2 and first["next_cursor"]
    second = await search(clerk, "身份证", limit=2, cursor=first["next_cursor"])
    assert second["documents"] is None and len(second["results"]) == 1
    assert (await search(clerk, "身份证 from:me"))["documents"] == []
    assert (await search(clerk, "身份证", room=cast.company_room_id))["documents"] == []
    assert (await search(clerk, "身份证", order="relevance"))["documents"] != []


async def test_the_search_page_shows_the_notices_section_above_the_messages(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, to_chengbei(cast))
    clerk = await login("wangfang")
    page = await clerk.http.get("/search", params={"q": "身份证"})
    assert page.status_code == 200
    html = page.text
    section = html.index('<section class="document-hits" data-kind="notice"')
    assert section < html.index('id="search-results"')
    assert f'href="/notices/{notice_id}"' in html
    assert "宽带移机新规" in html
    assert "<mark>身份证</mark>" in html
    assert '"document_labels"' in html
    outsider = await login("lina")
    elsewhere = (await outsider.http.get("/search", params={"q": "身份证"})).text
    assert f'href="/notices/{notice_id}"' not in elsewhere
    assert 'id="search-documents" class="search-documents" hidden' in elsewhere
    filtered = (await clerk.http.get("/search", params={"q": "身份证", "from_me": "true"})).text
    assert f'href="/notices/{notice_id}"' not in filtered


async def test_reindexing_rebuilds_the_notices_in_the_index(
    login, services: Services, cast: Cast, database_url: str, tmp_path
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, to_chengbei(cast))
    clerk = await login("wangfang")
    async with services.transaction() as unit:
        await unit.session.execute(text("DELETE FROM document_search"))
    assert await notices_found(clerk, "身份证") == []
    output = await run_cli(database_url, tmp_path / "cli", "search", "reindex")
    assert "Search index rebuilt:" in output and "1 documents" in output
    assert await notices_found(clerk, "身份证") == [notice_id]


async def test_the_migration_indexes_the_notices_already_there_and_drops_its_table(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, to_chengbei(cast))
    await _migrate(services, "downgrade", "0016")
    async with services.reading() as unit:
        tables = await unit.session.execute(text(TABLES[services.settings.is_sqlite]))
        assert "document_search" not in {name for (name,) in tables}
    await _migrate(services, "upgrade", "head")
    async with services.reading() as unit:
        assert await find_documents(unit.session, "notice", "身份证") == [notice_id]


TABLES = {
    True: "SELECT name FROM sqlite_master WHERE type = 'table'",
    False: "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
}


async def _migrate(services: Services, direction: str, revision: str) -> None:
    engine = services.database.engine.execution_options(writer=True)
    move = getattr(command, direction)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: move(alembic_config(sync), revision))


async def test_only_the_author_or_an_administrator_archives_a_notice(
    login, services: Services, cast: Cast
) -> None:
    notice_id = await published(await login("zhangwei"), to_chengbei(cast))
    async with services.transaction() as unit:
        manager = await unit.session.get(User, cast["zhaomin"].id)
        assert manager is not None
        with pytest.raises(Forbidden):
            await notice_actions.archive(unit, manager, notice_id, client_ip="10.0.0.2")
    assert await notices_found(await login("wangfang"), "身份证") == [notice_id]
    async with services.transaction() as unit:
        admin = await unit.session.get(User, cast["chengang"].id)
        assert admin is not None
        await notice_actions.archive(unit, admin, notice_id, client_ip="10.0.0.3")
    assert await notices_found(await login("wangfang"), "身份证") == []
