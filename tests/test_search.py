"""Search at the API on a Chinese corpus of counter business: one- and two-character words,
words inside sentences, codes matched exactly whatever their case, mixed queries, every
filter, edits and deletions, attachment names, relevance, paging, the custom dictionary,
and nobody finding what they may not read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from counterline.audit.models import AuditEntry
from counterline.messages.models import Message
from counterline.search.actions import follow_dictionary
from counterline.search.models import SearchTerm
from counterline.search.queries import Scope, candidate_ids
from counterline.segmenter import index_terms, use_words
from counterline.services import Services
from counterline.tasks import stop_task
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.cli import run_cli
from tests.support.clients import Client, post
from tests.test_inbox import start_conversation
from tests.test_message_edits import delete, edit
from tests.test_uploads import png, post_with, uploaded

SEARCH = "/api/v1/search"
TERMS = "/api/v1/search/terms"

# The company room's corpus: (author, text). Every member of the cast reads it.
CORPUS = [
    ("wangfang", "客户办理不动产登记需要携带身份证原件和复印件"),
    ("lina", "花桥营业厅今天排队较长，请大家注意分流"),
    ("zhouqiang", "B1E-0D7 号窗口的打印机又卡纸了，已报修"),
    ("wangfang", "b1e-0d8 窗口正常，可以引导客户过去"),
    ("zhangwei", "社保卡补办流程有变化，新的培训材料已经上传"),
    ("lina", "营业执照变更登记已经受理，三个工作日内办结"),
    # Every pair of 不动产登记 is here, the word is not: found only by its pairs.
    ("zhouqiang", "不动产证书和资产登录系统的登记问题已反馈"),
    ("zhaomin", "公积金提取系统下午两点维护，暂停办理 <b>加粗</b> & 其他"),
]


async def search(client: Client, q: str = "", **params: Any) -> dict[str, Any]:
    response = await client.http.get(SEARCH, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def found(client: Client, q: str = "", **params: Any) -> list[int]:
    return [result["message_id"] for result in (await search(client, q, **params))["results"]]


async def refused(client: Client, q: str = "", **params: Any) -> str:
    response = await client.http.get(SEARCH, params={"q": q, **params})
    assert response.status_code == 400, response.text
    return response.json()["error"]


async def post_corpus(login, cast: Cast) -> dict[str, int]:
    """The corpus posted in the company room; message ids by text."""
    clients: dict[str, Client] = {}
    ids = {}
    for number, (username, text) in enumerate(CORPUS):
        if username not in clients:
            clients[username] = await login(username)
        ids[text] = await post(clients[username], cast.company_room_id, text, f"corpus-{number}")
    return ids


def by_text(ids: dict[str, int], *fragments: str) -> list[int]:
    """The ids of the corpus messages containing each fragment, newest first."""
    return sorted(
        (ids[text] for text in ids if any(fragment in text for fragment in fragments)),
        reverse=True,
    )


async def test_one_and_two_character_words_are_found_inside_sentences(login, cast: Cast) -> None:
    ids = await post_corpus(login, cast)
    li = await login("lina")
    assert await found(li, "证") == by_text(ids, "身份证", "证书")
    assert await found(li, "排队") == by_text(ids, "排队")
    assert await found(li, "窗口") == by_text(ids, "窗口")
    assert await found(li, "登记") == by_text(ids, "登记")
    assert await found(li, "卡纸") == by_text(ids, "卡纸")
    assert await found(li, "机场") == []


async def test_a_long_word_is_found_only_where_it_is_whole(login, cast: Cast) -> None:
    ids = await post_corpus(login, cast)
    li = await login("lina")
    assert await found(li, "不动产登记") == by_text(ids, "不动产登记")
    assert await found(li, "不动产") == by_text(ids, "不动产")
    assert await found(li, "营业执照变更") == by_text(ids, "营业执照变更")
    assert await found(li, "工作日内办结") == by_text(ids, "工作日内办结")


async def test_a_code_matches_exactly_in_any_case_never_its_neighbour(login, cast: Cast) -> None:
    ids = await post_corpus(login, cast)
    li = await login("lina")
    assert await found(li, "B1E-0D7") == by_text(ids, "B1E-0D7")
    assert await found(li, "b1e-0d7") == by_text(ids, "B1E-0D7")
    assert await found(li, "Ｂ１Ｅ-０Ｄ７") == by_text(ids, "B1E-0D7")  # full-width
    assert await found(li, "B1E-0D8") == by_text(ids, "b1e-0d8")
    # A part of a code finds every code that has it.
    assert await found(li, "b1e") == by_text(ids, "B1E-0D7", "b1e-0d8")
    assert await found(li, "B1E-0D9") == []


async def test_mixed_chinese_and_code_queries_need_every_word(login, cast: Cast) -> None:
    ids = await post_corpus(login, cast)
    li = await login("lina")
    assert await found(li, "B1E-0D7 打印机") == by_text(ids, "B1E-0D7")
    assert await found(li, "B1E-0D7打印机") == by_text(ids, "B1E-0D7")
    assert await found(li, "b1e-0d8 打印机") == []
    assert await found(li, "登记 受理") == by_text(ids, "受理")
    assert await found(li, "窗口 客户") == by_text(ids, "b1e-0d8")


async def test_traditional_and_simplified_forms_find_each_other(login, cast: Cast) -> None:
    ids = await post_corpus(login, cast)
    li = await login("lina")
    hongkong = await post(li, cast.company_room_id, "請各營業廳覈對機頂盒資源編碼", "traditional")
    # Traditional words find the simplified corpus, and simplified words the traditional post.
    assert await found(li, "營業執照變更") == by_text(ids, "营业执照变更")
    assert await found(li, "不動產登記") == by_text(ids, "不动产登记")
    assert await found(li, "机顶盒") == [hongkong]
    assert await found(li, "营业厅") == [hongkong, *by_text(ids, "营业厅")]
    assert await found(li, '"资源编码"') == [hongkong]
    # The snippet marks the words as they were written.
    result = (await search(li, "资源编码"))["results"][0]
    assert "<mark>資源編碼</mark>" in result["snippet_html"]


async def test_an_exact_phrase_must_appear_as_written(login, cast: Cast) -> None:
    ids = await post_corpus(login, cast)
    li = await login("lina")
    assert await found(li, '"不动产登记需要"') == by_text(ids, "不动产登记需要")
    assert await found(li, "“登记已经受理”") == by_text(ids, "登记已经受理")
    assert await found(li, '"受理登记"') == []
    assert await found(li, '"登记 受理"') == []  # both words are there, not this phrase
    assert await found(li, '"b1e-0d8 窗口"') == by_text(ids, "b1e-0d8")


async def test_results_carry_the_message_in_context_and_a_marked_snippet(login, cast: Cast) -> None:
    ids = await post_corpus(login, cast)
    li = await login("lina")
    page = await search(li, "B1E-0D7")
    (result,) = page["results"]
    assert result["message_id"] == ids["B1E-0D7 号窗口的打印机又卡纸了，已报修"]
    assert (result["room"]["id"], result["room"]["kind"]) == (cast.company_room_id, "company")
    assert result["author"] == {
        "id": cast["zhouqiang"].id,
        "username": "zhouqiang",
        "display_name": "周强",
    }
    assert result["branch"] == {"id": cast.branch_ids[HUAQIAO], "name": HUAQIAO}
    assert result["snippet_html"] == "<mark>B1E-0D7</mark> 号窗口的打印机又卡纸了，已报修"
    assert result["attachments"] == []
    assert page["terms"] == ["b1e-0d7"] and page["next_cursor"] is None
    assert datetime.fromisoformat(result["created_at"]).tzinfo is not None
    (escaped,) = (await search(li, "加粗"))["results"]
    assert escaped["snippet_html"] == (
        "公积金提取系统下午两点维护，暂停办理 &lt;b&gt;<mark>加粗</mark>&lt;/b&gt; &amp; 其他"
    )


async def test_a_long_message_shows_the_text_around_its_first_match(login, cast: Cast) -> None:
    wang = await login("wangfang")
    body = "前言" * 100 + "重要：窗口调整" + "后记" * 100
    await post(wang, cast.company_room_id, body, "long-0001")
    (result,) = (await search(wang, "窗口调整"))["results"]
    snippet = result["snippet_html"]
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "重要：<mark>窗口调整</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) <= 122


async def test_an_edit_replaces_the_words_found_and_a_deletion_removes_them(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    message = await post(wang, cast.company_room_id, "周六加班安排已发布", "edit-0001")
    assert await found(wang, "加班") == [message]
    assert (await edit(wang, message, "周六调休安排已发布")).status_code == 200
    assert await found(wang, "加班") == []
    assert await found(wang, "调休") == [message]
    assert (await delete(wang, message)).status_code == 204
    assert await found(wang, "调休") == []
    assert await found(wang, "安排") == []


async def test_attachment_names_are_found_and_listed(login, cast: Cast) -> None:
    wang = await login("wangfang")
    picture = await uploaded(wang, "窗口排队照片.png", png())
    sheet = await uploaded(wang, "三月窗口月报表.txt", b"month")
    answer = await post_with(wang, cast.company_room_id, "请查收", "files-0001", [sheet["id"]])
    assert answer.status_code == 201, answer.text
    with_sheet = answer.json()["id"]
    answer = await post_with(wang, cast.company_room_id, "", "files-0002", [picture["id"]])
    with_picture = answer.json()["id"]
    plain = await post(wang, cast.company_room_id, "没有附件的窗口消息", "files-0003")
    assert await found(wang, "月报表") == [with_sheet]
    assert await found(wang, "排队照片") == [with_picture]
    page = await search(wang, "窗口")
    assert [r["message_id"] for r in page["results"]] == [plain, with_picture, with_sheet]
    assert page["results"][1]["attachments"] == [{"name": "窗口排队照片.png", "kind": "image"}]
    assert page["results"][2]["attachments"] == [{"name": "三月窗口月报表.txt", "kind": "file"}]
    assert await found(wang, "窗口 has:picture") == [with_picture]
    assert await found(wang, "窗口", has="file") == [with_sheet]
    assert await found(wang, "has:image") == [with_picture]
    assert await found(wang, "has:picture has:file") == []


async def test_filters_by_author_branch_room_and_me(login, cast: Cast) -> None:
    ids = await post_corpus(login, cast)
    wang = await login("wangfang")
    in_branch = await post(wang, cast.branch_room_ids[CHENGBEI], "城北窗口今天人少", "filter-0001")
    windows = by_text(ids, "窗口")
    assert await found(wang, "窗口 from:zhouqiang") == by_text(ids, "B1E-0D7")
    assert await found(wang, "窗口 from:周强") == by_text(ids, "B1E-0D7")
    assert await found(wang, "窗口", author="zhouqiang") == by_text(ids, "B1E-0D7")
    assert await found(wang, "窗口 from:me") == [in_branch, *by_text(ids, "b1e-0d8")]
    assert await found(wang, "窗口", from_me="true") == [in_branch, *by_text(ids, "b1e-0d8")]
    assert await found(wang, f"branch:{HUAQIAO}") == by_text(ids, "排队", "B1E", "营业执照", "资产")
    assert await found(wang, "窗口 branch:花桥") == by_text(ids, "B1E-0D7")
    assert await found(wang, "窗口", branch=cast.branch_ids[CHENGBEI]) == [
        in_branch,
        *by_text(ids, "b1e-0d8"),
    ]
    assert await found(wang, "窗口") == [in_branch, *windows]
    assert await found(wang, "窗口", room=cast.branch_room_ids[CHENGBEI]) == [in_branch]
    room_name = (await search(wang, "人少"))["results"][0]["room"]["name"]
    assert await found(wang, f'窗口 in:"{room_name}"') == [in_branch]
    # Filters combine: each narrows.
    assert await found(wang, "窗口 from:lina", author="zhouqiang") == []
    assert await found(wang, "窗口 from:me", room=cast.company_room_id) == by_text(ids, "b1e-0d8")


async def test_a_room_name_may_match_several_rooms_of_the_viewer(login, cast: Cast) -> None:
    zhang = await login("zhangwei")
    rooms = []
    for name in ("培训一组", "培训二组"):
        answer = await zhang.http.post(
            "/api/v1/rooms",
            json={"name": name, "visibility": "public"},
            headers={"X-CSRF-Token": zhang.csrf_token},
        )
        assert answer.status_code == 201, answer.text
        rooms.append(answer.json()["id"])
    first = await post(zhang, rooms[0], "今天考核窗口礼仪", "rooms-0001")
    second = await post(zhang, rooms[1], "明天考核窗口礼仪", "rooms-0002")
    await post(zhang, cast.company_room_id, "考核通知见群公告", "rooms-0003")
    assert await found(zhang, "考核 in:培训") == [second, first]
    assert await found(zhang, "in:培训一组") == [first]
    assert await found(zhang, "考核", room=rooms[1]) == [second]
    assert await found(zhang, "in:培训", room=rooms[0]) == [first]


async def test_a_search_of_filters_alone_lists_the_newest_matching_messages(
    login, cast: Cast
) -> None:
    ids = await post_corpus(login, cast)
    li = await login("lina")
    assert await found(li, "from:me") == by_text(ids, "排队", "营业执照")
    assert await found(li, from_me="true", limit=1) == by_text(ids, "营业执照")
    everything = await found(li, limit=50)
    assert everything[: len(ids)] == sorted(ids.values(), reverse=True)


async def test_mentions_of_me_are_found(login, cast: Cast) -> None:
    zhang = await login("zhangwei")
    mention = await post(zhang, cast.company_room_id, "@王芳 请核对窗口排班", "mention-0001")
    await post(zhang, cast.company_room_id, "窗口排班已更新", "mention-0002")
    wang = await login("wangfang")
    assert await found(wang, "排班 mentions:me") == [mention]
    assert await found(wang, "mentions:me") == [mention]
    assert await found(wang, "排班", mentions_me="true") == [mention]
    li = await login("lina")
    assert await found(li, "mentions:me") == []


async def test_days_are_read_in_the_site_time_zone(login, cast: Cast, services: Services) -> None:
    wang = await login("wangfang")
    first = await post(wang, cast.company_room_id, "月末盘点窗口现金", "days-0001")
    second = await post(wang, cast.company_room_id, "月初盘点窗口现金", "days-0002")
    async with services.transaction() as unit:
        # 2026-01-31 23:30 in Shanghai is still January there, February 1st nowhere yet.
        for message_id, moment in (
            (first, datetime(2026, 1, 31, 15, 30, tzinfo=UTC)),
            (second, datetime(2026, 1, 31, 16, 30, tzinfo=UTC)),  # 2026-02-01 00:30 Shanghai
        ):
            await unit.session.execute(
                update(Message).where(Message.id == message_id).values(created_at=moment)
            )
    assert await found(wang, "盘点 after:2026-02-01") == [second]
    assert await found(wang, "盘点 before:2026-02-01") == [first]
    assert await found(wang, "盘点", after="2026-01-31", before="2026-02-01") == [first]
    assert await found(wang, "盘点 after:2026-01-01 before:2026-03-01") == [second, first]
    assert await found(wang, "盘点 after:2026-03-01") == []


async def test_a_query_that_cannot_be_read_is_a_clear_400(login, cast: Cast) -> None:
    wang = await login("wangfang")
    assert "after:YYYY-MM-DD" in await refused(wang, "窗口 after:2026-13-01")
    assert "before:YYYY-MM-DD" in await refused(wang, "before:昨天")
    assert "after:YYYY-MM-DD" in await refused(wang, after="2026/01/01")
    assert "has:picture" in await refused(wang, "has:video")
    assert "has:picture" in await refused(wang, has="video")
    assert "mentions:me" in await refused(wang, "mentions:lina")
    assert "nobody" in (await refused(wang, "from:nobody")).lower()
    assert "火星" in await refused(wang, "branch:火星")
    assert "机房" in await refused(wang, "in:机房")
    assert await refused(wang, "窗口", after="2026-02-01", before="2026-01-01")
    assert await refused(wang, "窗口", cursor="garbage")
    bad_order = await wang.http.get(SEARCH, params={"q": "窗口", "order": "oldest"})
    assert bad_order.status_code == 422


async def test_nobody_finds_what_they_may_not_read(login, cast: Cast) -> None:
    wang = await login("wangfang")
    zhou = await login("zhouqiang")
    secret_room = cast.branch_room_ids[CHENGBEI]
    in_branch = await post(wang, secret_room, "城北机密：保险柜密码更换", "private-0001")
    dm = await start_conversation(wang, "zhouqiang")
    in_dm = await post(zhou, dm, "私聊：保险柜钥匙在我这", "private-0002")
    shared = await post(wang, cast.company_room_id, "公开：保险柜年检通知", "private-0003")
    assert await found(wang, "保险柜") == [shared, in_dm, in_branch]
    assert await found(zhou, "保险柜") == [shared, in_dm]
    li = await login("lina")
    assert await found(li, "保险柜") == [shared]
    assert await found(li, "保险柜", room=secret_room) == []
    assert await found(li, "保险柜", room=dm) == []
    assert await found(li, "from:wangfang") == [shared]
    assert await found(li, "from:zhouqiang") == []
    assert await found(li, "保险柜", order="relevance") == [shared]
    assert "城北" in await refused(li, "保险柜 in:城北")


async def test_relevance_puts_whole_repeated_words_first_newest_breaks_ties(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    repeated = await post(
        wang, cast.company_room_id, "登记处今天办理登记，登记材料齐全", "rank-0001"
    )
    scattered = await post(wang, cast.company_room_id, "登门拜访后记录在册", "rank-0002")
    once = await post(wang, cast.company_room_id, "请先登记", "rank-0003")
    together = await post(wang, cast.company_room_id, "不动产登记中心通知", "rank-0004")
    apart = await post(wang, cast.company_room_id, "登记表放在不动产窗口", "rank-0005")
    assert await found(wang, "登记") == [apart, together, once, repeated]
    assert await found(wang, "登记", order="relevance") == [repeated, apart, together, once]
    assert scattered not in await found(wang, "登记", order="relevance")
    assert await found(wang, "不动产 登记", order="relevance") == [together, apart]


async def test_pages_follow_each_other_without_gaps_or_duplicates(login, cast: Cast) -> None:
    wang = await login("wangfang")
    posted = [
        await post(wang, cast.company_room_id, f"第{n}次窗口排班调整说明", f"page-{n:04}")
        for n in range(23)
    ]
    # Every pair of 窗口排班, but not the word: read and passed over.
    await post(wang, cast.company_room_id, "窗口排好了，排班表在班车上", "page-extra")
    for order in ("newest", "relevance"):
        seen: list[int] = []
        cursor = None
        pages = 0
        while True:
            page = await search(
                wang, "窗口排班", order=order, limit=10, **({"cursor": cursor} if cursor else {})
            )
            seen += [result["message_id"] for result in page["results"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3, order
        assert sorted(seen) == sorted(posted), order
        if order == "newest":
            assert seen == sorted(posted, reverse=True)


async def test_a_page_of_a_relevance_search_ignores_messages_posted_since(
    login, cast: Cast
) -> None:
    wang = await login("wangfang")
    posted = [
        await post(wang, cast.company_room_id, f"核对{n}号窗口现金", f"rel-{n:04}")
        for n in range(6)
    ]
    first = await search(wang, "现金", order="relevance", limit=3)
    await post(wang, cast.company_room_id, "新的现金核对要求", "relevance-new")
    second = await search(wang, "现金", order="relevance", limit=3, cursor=first["next_cursor"])
    seen = [r["message_id"] for r in first["results"] + second["results"]]
    assert sorted(seen) == posted and second["next_cursor"] is None


async def test_punctuation_alone_finds_nothing(login, cast: Cast) -> None:
    await post_corpus(login, cast)
    li = await login("lina")
    assert await found(li, "，，！") == []


# The custom dictionary


async def add_term(client: Client, term: str) -> Any:
    return await client.http.post(
        TERMS, json={"term": term}, headers={"X-CSRF-Token": client.csrf_token}
    )


async def test_trainers_edit_the_business_terms_on_the_record(
    login, cast: Cast, services: Services
) -> None:
    zhang = await login("zhangwei")
    added = await add_term(zhang, "资产登录")
    assert added.status_code == 201, added.text
    term = added.json()
    assert term["term"] == "资产登录" and term["created_by"] == "zhangwei"
    assert (await add_term(zhang, "资产登录")).status_code == 409
    assert (await add_term(zhang, "B1E")).status_code == 400
    assert (await add_term(zhang, "资 产")).status_code == 400
    listed = await zhang.http.get(TERMS)
    assert [t["term"] for t in listed.json()["terms"]] == ["资产登录"]
    removed = await zhang.http.delete(
        f"{TERMS}/{term['id']}", headers={"X-CSRF-Token": zhang.csrf_token}
    )
    assert removed.status_code == 204
    assert (await zhang.http.get(TERMS)).json() == {"terms": []}
    async with services.reading() as unit:
        actions = list(
            await unit.session.execute(
                select(AuditEntry.action, AuditEntry.actor_id).where(
                    AuditEntry.action.like("search.%")
                )
            )
        )
    assert sorted(actions) == [
        ("search.term_added", cast["zhangwei"].id),
        ("search.term_removed", cast["zhangwei"].id),
    ]


@pytest.mark.parametrize("username", ["wangfang", "zhaomin"])
async def test_clerks_and_managers_may_not_edit_the_business_terms(login, username: str) -> None:
    client = await login(username)
    assert (await add_term(client, "资产登录")).status_code == 403
    assert (await client.http.get(TERMS)).status_code == 403


async def indexed_under(services: Services, term: str, cast: Cast) -> list[int]:
    """The messages the index holds under ``term`` (one index term, as stored)."""
    everywhere = Scope(viewer_id=cast["wangfang"].id, room_ids=[cast.company_room_id])
    async with services.reading() as unit:
        return await candidate_ids(unit.session, everywhere, [term], below=None, limit=50)


async def test_a_business_term_becomes_one_index_term_for_new_and_reindexed_messages(
    login, cast: Cast, services: Services, database_url: str, tmp_path
) -> None:
    wang = await login("wangfang")
    before = await post(wang, cast.company_room_id, "请通过资产登录系统查询", "dict-0001")
    other = await post(wang, cast.company_room_id, "资产登记和登录系统是两回事", "dict-0002")
    assert await indexed_under(services, "资产登录", cast) == []
    assert await found(wang, "资产登录") == [before]  # by its pairs meanwhile
    chengang = await login("chengang")
    assert (await add_term(chengang, "资产登录")).status_code == 201
    after = await post(wang, cast.company_room_id, "资产登录密码重置", "dict-0003")
    assert await indexed_under(services, "资产登录", cast) == [after]
    output = await run_cli(database_url, tmp_path / "cli", "search", "reindex")
    assert "Search index rebuilt: 3 messages" in output
    assert await indexed_under(services, "资产登录", cast) == [after, before]
    assert await found(wang, "资产登录") == [after, before]
    assert await found(wang, "登录系统") == [other, before]


async def test_a_term_added_through_another_server_reaches_this_one(
    cast: Cast, services: Services
) -> None:
    async with services.transaction() as unit:
        unit.session.add(SearchTerm(term="资产登录", created_by_id=cast["zhangwei"].id))
    follower = asyncio.create_task(follow_dictionary(services.reading, every=0.05))
    try:
        for _ in range(100):
            if "资产登录" in index_terms("资产登录密码重置"):
                break
            await asyncio.sleep(0.05)
        assert "资产登录" in index_terms("资产登录密码重置")
    finally:
        await stop_task(follower)
        use_words([])
