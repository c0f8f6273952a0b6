"""Questions and the FAQ (faq/): a question asked in a room or a notice's thread, answered
there and accepted by a trainer, becomes an FAQ entry every branch reads, finds by its
words and is offered while typing the same question. Over real HTTP against the live
server, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from counterline.audit.models import AuditEntry
from counterline.search.documents import find_documents
from counterline.services import Services
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.support.clients import Client, open_stream, post
from tests.test_notices import notice_body, published


def headers(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf_token}


async def mark(client: Client, message_id: int) -> httpx.Response:
    return await client.http.post(
        f"/api/v1/messages/{message_id}/question", headers=headers(client)
    )


async def accept(
    client: Client, question_id: int, answer_id: int, topic: str = ""
) -> httpx.Response:
    return await client.http.post(
        f"/api/v1/messages/{question_id}/question/answer",
        json={"answer_id": answer_id, "topic": topic},
        headers=headers(client),
    )


async def suggestions(client: Client, text: str) -> list[dict[str, Any]]:
    response = await client.http.get("/api/v1/faq/suggestions", params={"text": text})
    assert response.status_code == 200, response.text
    return response.json()["suggestions"]


async def open_thread(client: Client, notice_id: int) -> int:
    response = await client.http.post(
        f"/api/v1/notices/{notice_id}/discussion", headers=headers(client)
    )
    assert response.status_code == 200, response.text
    return response.json()["room_id"]


async def test_question_answered_in_one_branchs_thread_is_in_the_faq_and_offered_to_another_branch(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    asker = await login("wangfang")  # 城北
    room_id = await open_thread(asker, notice_id)
    question_id = await post(
        asker, room_id, "宽带移机需要带什么材料？身份证复印件可以吗", "faq-q-0001"
    )
    assert (await mark(asker, question_id)).status_code == 200
    assert await open_thread(trainer, notice_id) == room_id
    answer_id = await post(trainer, room_id, "移机要带**身份证原件**，复印件不行。", "faq-a-0001")
    accepted = await accept(trainer, question_id, answer_id, "宽带")
    assert accepted.status_code == 201, accepted.text
    entry = accepted.json()
    assert entry["question"] == "宽带移机需要带什么材料？身份证复印件可以吗"
    assert "<strong>身份证原件</strong>" in entry["answer_html"]
    assert entry["source_url"] == f"/rooms/{room_id}?at={question_id}"

    other = await login("lina")  # 花桥: not in that thread
    faq = (await other.http.get("/api/v1/faq")).json()
    assert [(e["id"], e["topic"]) for e in faq["entries"]] == [(entry["id"], "宽带")]
    assert faq["topics"] == [{"topic": "宽带", "count": 1}]
    found = (await other.http.get("/api/v1/faq", params={"q": "移机 原件"})).json()
    assert [e["id"] for e in found["entries"]] == [entry["id"]]
    offered = await suggestions(other, "请问宽带移机要带哪些材料")
    assert [s["id"] for s in offered] == [entry["id"]]
    assert offered[0]["url"] == f"/faq/{entry['id']}"
    assert await suggestions(other, "机顶盒遥控器坏了怎么换") == []


async def test_only_the_author_or_a_trainer_marks_a_question_and_only_trainers_accept(
    login, cast: Cast
) -> None:
    clerk, colleague = await login("lina"), await login("zhouqiang")
    room_id = cast.branch_room_ids[HUAQIAO]
    question_id = await post(clerk, room_id, "停机保号怎么收费", "faq-q-0002")
    refused = await mark(colleague, question_id)
    assert refused.status_code == 403
    assert (await mark(clerk, question_id)).status_code == 200
    answer_id = await post(colleague, room_id, "每月5元", "faq-a-0002")
    assert (await accept(colleague, question_id, answer_id)).status_code == 403
    stranger = await login("wangfang")  # 城北: not a member of 花桥's room
    assert (await mark(stranger, question_id)).status_code == 404
    listed = (await clerk.http.get(f"/api/v1/rooms/{room_id}/questions")).json()
    assert [(q["message_id"], q["state"]) for q in listed["questions"]] == [(question_id, "open")]
    assert listed["can_accept"] is False
    unmarked = await clerk.http.delete(
        f"/api/v1/messages/{question_id}/question", headers=headers(clerk)
    )
    assert unmarked.status_code == 204
    listed = (await clerk.http.get(f"/api/v1/rooms/{room_id}/questions")).json()
    assert listed["questions"] == []


async def test_the_answer_must_be_another_message_of_the_same_room(login, cast: Cast) -> None:
    trainer = await login("zhangwei")
    room_id = cast.company_room_id
    question_id = await post(trainer, room_id, "发票抬头能改吗", "faq-q-0003")
    assert (await mark(trainer, question_id)).status_code == 200
    elsewhere = await post(trainer, cast.branch_room_ids["总部"], "可以改", "faq-a-0003")
    refused = await accept(trainer, question_id, elsewhere)
    assert refused.status_code == 400
    assert "同一" in refused.json()["error"] or "same room" in refused.json()["error"]
    assert (await accept(trainer, question_id, question_id)).status_code == 400
    assert (await accept(trainer, 2**40, elsewhere)).status_code == 404


async def test_every_tab_of_the_room_sees_a_question_marked_and_answered(
    server, login, cast: Cast
) -> None:
    reader = await login("lina")
    stream = await open_stream(server.ws_url, cookie=reader.session_cookie)
    try:
        trainer = await login("zhangwei")
        room_id = cast.company_room_id
        question_id = await post(reader, room_id, "副卡能单独销户吗", "faq-q-0004")
        assert (await mark(reader, question_id)).status_code == 200
        frame = await stream.next("question.changed")
        assert frame["message_id"] == question_id and frame["question"]["state"] == "open"
        answer_id = await post(trainer, room_id, "不能，随主卡", "faq-a-0004")
        entry = (await accept(trainer, question_id, answer_id, "销户")).json()
        frame = await stream.next("question.changed")
        assert frame["question"]["state"] == "answered"
        assert (frame["question"]["answer_id"], frame["question"]["faq_id"]) == (
            answer_id,
            entry["id"],
        )
    finally:
        await stream.close()


async def test_a_trainer_edits_an_entry_into_a_clean_one_and_the_old_words_stop_finding_it(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    room_id = cast.company_room_id
    question_id = await post(trainer, room_id, "那个融合套餐拆机咋弄啊", "faq-q-0005")
    await mark(trainer, question_id)
    answer_id = await post(trainer, room_id, "先拆副卡再拆主卡", "faq-a-0005")
    entry = (await accept(trainer, question_id, answer_id)).json()
    clean = {
        "topic": "融合套餐",
        "question": "融合套餐如何拆机？",
        "answer": "先拆副卡，再拆主卡。",
    }
    edited = await trainer.http.put(
        f"/api/v1/faq/{entry['id']}", json=clean, headers=headers(trainer)
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["question"], edited.json()["topic"]) == ("融合套餐如何拆机？", "融合套餐")
    clerk = await login("wangfang")
    assert (
        await clerk.http.put(f"/api/v1/faq/{entry['id']}", json=clean, headers=headers(clerk))
    ).status_code == 403
    by_new = (await clerk.http.get("/api/v1/faq", params={"q": "拆机"})).json()["entries"]
    assert [e["id"] for e in by_new] == [entry["id"]]
    by_old = (await clerk.http.get("/api/v1/faq", params={"q": "咋弄"})).json()["entries"]
    assert by_old == []
    async with services.reading() as unit:
        audit = await unit.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "faq.edited")
        )
    assert audit is not None and audit.target == f"faq:{entry['id']}"


async def test_deleting_an_entry_opens_its_question_again(
    login, services: Services, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    room_id = cast.company_room_id
    question_id = await post(trainer, room_id, "携号转网要多久", "faq-q-0006")
    await mark(trainer, question_id)
    answer_id = await post(trainer, room_id, "三个工作日", "faq-a-0006")
    entry = (await accept(trainer, question_id, answer_id)).json()
    gone = await trainer.http.delete(f"/api/v1/faq/{entry['id']}", headers=headers(trainer))
    assert gone.status_code == 204
    assert (await trainer.http.get(f"/api/v1/faq/{entry['id']}")).status_code == 404
    assert (await trainer.http.get("/api/v1/faq", params={"q": "携号转网"})).json()["entries"] == []
    async with services.reading() as unit:  # and out of the index, not only hidden
        assert await find_documents(unit.session, "faq", "多久") == []
    listed = (await trainer.http.get(f"/api/v1/rooms/{room_id}/questions")).json()["questions"]
    assert [(q["message_id"], q["state"], q["faq_id"]) for q in listed] == [
        (question_id, "open", None)
    ]


async def test_a_notice_thread_is_for_who_may_read_the_notice(login, cast: Cast) -> None:
    trainer = await login("zhangwei")
    body = notice_body(cast, audience={"branch_ids": [cast.branch_ids[CHENGBEI]]})
    notice_id = await published(trainer, body)
    clerk = await login("wangfang")
    room_id = await open_thread(clerk, notice_id)
    rooms = (await clerk.http.get("/api/v1/rooms")).json()["rooms"]
    assert {"id": room_id, "kind": "notice"}.items() <= next(
        r for r in rooms if r["id"] == room_id
    ).items()
    members = (await trainer.http.get(f"/api/v1/rooms/{room_id}/members")).json()
    assert {m["username"] for m in members["members"]} == {"zhangwei", "wangfang"}
    outsider = await login("lina")  # 花桥: not in the audience
    refused = await outsider.http.post(
        f"/api/v1/notices/{notice_id}/discussion", headers=headers(outsider)
    )
    assert refused.status_code == 404
    assert (await outsider.http.get(f"/api/v1/rooms/{room_id}/messages")).status_code == 404


@pytest.mark.parametrize("text", ["", "宽带", "   "])
async def test_nothing_is_suggested_for_too_little_text(login, text: str) -> None:
    clerk = await login("lina")
    assert await suggestions(clerk, text) == []


async def test_an_answer_id_given_as_true_is_refused_not_taken_as_message_1(
    login, cast: Cast
) -> None:
    trainer = await login("zhangwei")
    question_id = await post(trainer, cast.company_room_id, "副卡能过户吗", "faq-q-0007")
    await mark(trainer, question_id)
    response = await trainer.http.post(
        f"/api/v1/messages/{question_id}/question/answer",
        json={"answer_id": True},
        headers=headers(trainer),
    )
    assert response.status_code == 422
