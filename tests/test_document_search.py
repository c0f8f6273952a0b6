"""The document index (search.documents) on its own: documents of a kind found by one- and
two-character words, words inside sentences, long words only where whole, codes in any
case; replaced on re-indexing, gone when unindexed, restricted to the ids a viewer may
see; and similar documents for suggestions while typing."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from counterline.search import documents
from counterline.search.documents import (
    find_documents,
    find_similar,
    index_document,
    register_source,
    unindex_document,
)
from counterline.services import Services

KIND = "test_doc"
ENTRIES = {
    1: "宽带移机需要带什么材料",
    2: "营业厅几点开门，周末营业吗",
    3: "B1E-0D7 号窗口的打印机卡纸处理办法",
    4: "社保卡补办流程：携带身份证到营业厅办理",
    5: "营业厅排队叫号系统的使用说明",
    6: "不动产证书和资产登录系统的登记问题",  # every pair of 不动产登记, not the word
    7: "客户办理不动产登记需要携带身份证原件",
}


async def indexed(services: Services, entries: Mapping[int, str] = ENTRIES) -> None:
    async with services.transaction() as unit:
        for ref_id, body in entries.items():
            await index_document(unit.session, KIND, ref_id, body)


async def find(services: Services, query: str, **options: object) -> list[int]:
    async with services.reading() as unit:
        return await find_documents(unit.session, KIND, query, **options)  # type: ignore[arg-type]


async def test_one_and_two_character_words_inside_sentences_find_documents(
    services: Services,
) -> None:
    await indexed(services)
    assert set(await find(services, "卡")) == {3, 4}
    assert set(await find(services, "营业")) == {2, 4, 5}
    assert await find(services, "叫号") == [5]
    assert set(await find(services, "身份证 营业厅")) == {4}  # every word must match
    assert await find(services, "移机") == [1]
    assert await find(services, "邮政") == []


async def test_a_code_is_found_in_any_case_never_its_neighbour(services: Services) -> None:
    await indexed(services)
    assert await find(services, "b1e-0d7") == [3]
    assert await find(services, "Ｂ１Ｅ-0D7") == [3]  # full width too
    assert await find(services, "B1E-0D8") == []


async def test_a_long_word_is_found_where_it_is_whole_once_the_kind_gives_its_texts(
    services: Services,
) -> None:
    await indexed(services)

    async def texts_of(session: AsyncSession, ref_ids: Collection[int]) -> dict[int, str]:
        return {ref_id: ENTRIES[ref_id] for ref_id in ref_ids if ref_id in ENTRIES}

    async def nothing(*args: object) -> list:
        return []

    # Without its texts, a long word's pairs alone decide.
    assert set(await find(services, "不动产登记")) == {6, 7}
    register_source(
        KIND,
        label="Test",
        texts_after=nothing,
        readable=nothing,
        hit_of=nothing,
        texts_of=texts_of,
    )
    try:
        assert await find(services, "不动产登记") == [7]
    finally:
        documents._sources.pop(KIND)


async def test_re_indexing_replaces_the_terms_and_unindexing_removes_the_document(
    services: Services,
) -> None:
    await indexed(services)
    async with services.transaction() as unit:
        await index_document(unit.session, KIND, 5, "自助终端的使用说明")
        await unindex_document(unit.session, KIND, 1)
    assert await find(services, "叫号") == []
    assert await find(services, "自助终端") == [5]
    assert await find(services, "移机") == []
    assert set(await find(services, "营业")) == {2, 4}


async def test_kinds_are_apart(services: Services) -> None:
    await indexed(services)
    async with services.transaction() as unit:
        await index_document(unit.session, "other", 40, "营业厅的另一种文档")
    assert set(await find(services, "营业")) == {2, 4, 5}
    assert await find(services, "另一种") == []
    async with services.reading() as unit:
        assert await find_documents(unit.session, "other", "营业") == [40]


async def test_best_match_first_newest_on_a_tie_and_limit(services: Services) -> None:
    await indexed(
        services,
        {
            10: "密码重置",
            11: "密码重置 密码重置的步骤：先核验身份再重置密码",
            12: "密码重置",
            13: "客户忘记密码怎么办，窗口可以重置，营业厅地址见附件，另外还有很多无关的话",
        },
    )
    found = await find(services, "密码 重置")
    assert set(found) == {10, 11, 12, 13}
    assert found.index(12) < found.index(10)  # the same text: the newer first
    assert found.index(10) < found.index(13)  # a short document full of the words first
    assert len(await find(services, "密码 重置", limit=2)) == 2
    assert await find(services, "重置密码") == [11]  # one word: its pairs, together


async def test_an_empty_query_or_punctuation_finds_nothing(services: Services) -> None:
    await indexed(services)
    assert await find(services, "") == []
    assert await find(services, "，。！？") == []


async def test_similar_documents_share_the_rare_words_not_the_asking_words(
    services: Services,
) -> None:
    await indexed(services)
    async with services.reading() as unit:
        similar = await find_similar(unit.session, KIND, "营业厅怎么办理宽带移机")
        asking = await find_similar(unit.session, KIND, "请问怎么是什么的吗")
        empty = await find_similar(unit.session, KIND, "")
    ids = [ref_id for ref_id, _ in similar]
    assert ids[0] == 1
    assert set(ids) >= {1, 4, 5}
    assert all(0 < score <= 1 for _, score in similar)
    assert [score for _, score in similar] == sorted((score for _, score in similar), reverse=True)
    assert asking == []
    assert empty == []


async def test_a_similar_text_ranks_the_document_it_repeats_at_the_top(
    services: Services,
) -> None:
    await indexed(services)
    async with services.reading() as unit:
        similar = await find_similar(unit.session, KIND, "宽带移机需要带什么材料", limit=2)
    assert similar[0] == (1, 1.0)
    assert len(similar) <= 2
