"""The FAQ pages (/faq, /faq/{id}): everyone reads the entries by topic and finds them by
their words; trainers write, edit and delete entries with plain forms; a notice's page opens
its discussion thread. Over real HTTP against the live server."""

from __future__ import annotations

import re

from tests.cast import Cast
from tests.support.clients import Client
from tests.test_notices import notice_body, published


def listed(html: str) -> list[str]:
    return re.findall(r'<a class="faq-question" href="/faq/\d+">([^<]*)</a>', html)


def topics(html: str) -> list[str]:
    return re.findall(r'<h2 id="topic-\d+">([^<]*)</h2>', html)


async def write(client: Client, topic: str, question: str, answer: str):
    data = {"topic": topic, "question": question, "answer": answer, "csrf_token": client.csrf_token}
    return await client.http.post("/faq", data=data)


async def test_a_trainer_writes_entries_and_a_clerk_reads_them_by_topic_and_finds_them(
    login,
) -> None:
    trainer = await login("zhangwei")
    written = await write(trainer, "宽带", "宽带移机要带什么？", "带**身份证原件**。")
    assert written.status_code == 303
    assert re.fullmatch(r"/faq/\d+\?saved=1", written.headers["location"])
    await write(trainer, "宽带", "宽带提速怎么收费？", "按新套餐差价收费。")
    await write(trainer, "", "发票抬头能改吗？", "当月可以改一次。")

    clerk = await login("lina")
    page = (await clerk.http.get("/faq")).text
    assert topics(page) == ["综合", "宽带"]
    assert listed(page) == ["发票抬头能改吗？", "宽带提速怎么收费？", "宽带移机要带什么？"]
    assert 'method="post" action="/faq"' not in page  # trainers only
    found = (await clerk.http.get("/faq", params={"q": "移机"})).text
    assert listed(found) == ["宽带移机要带什么？"]
    by_topic = (await clerk.http.get("/faq", params={"topic": "宽带"})).text
    assert listed(by_topic) == ["宽带提速怎么收费？", "宽带移机要带什么？"]
    entry = await clerk.http.get(written.headers["location"])
    assert "<strong>身份证原件</strong>" in entry.text and 'id="faq-source"' not in entry.text
    nothing = (await clerk.http.get("/faq", params={"q": "携号转网"})).text
    assert listed(nothing) == [] and 'role="status"' in nothing


async def test_a_clerk_cannot_write_edit_or_delete(login) -> None:
    trainer = await login("zhangwei")
    location = (await write(trainer, "宽带", "宽带移机要带什么？", "身份证原件")).headers[
        "location"
    ]
    entry_id = re.search(r"/faq/(\d+)", location).group(1)
    clerk = await login("wangfang")
    assert (await write(clerk, "x", "问题", "答案")).status_code == 403
    data = {"topic": "", "question": "改了", "answer": "改了", "csrf_token": clerk.csrf_token}
    assert (await clerk.http.post(f"/faq/{entry_id}", data=data)).status_code == 403
    deleted = await clerk.http.post(
        f"/faq/{entry_id}/delete", data={"csrf_token": clerk.csrf_token}
    )
    assert deleted.status_code == 403
    assert (await clerk.http.get(location)).status_code == 200


async def test_an_edit_with_an_empty_answer_is_refused_next_to_the_form_keeping_the_typing(
    login,
) -> None:
    trainer = await login("zhangwei")
    location = (await write(trainer, "宽带", "宽带移机要带什么？", "身份证原件")).headers[
        "location"
    ]
    entry_id = re.search(r"/faq/(\d+)", location).group(1)
    data = {
        "topic": "宽带",
        "question": "移机材料",
        "answer": "  ",
        "csrf_token": trainer.csrf_token,
    }
    refused = await trainer.http.post(f"/faq/{entry_id}", data=data)
    assert refused.status_code == 400
    assert 'id="faq-error"' in refused.text and 'value="移机材料"' in refused.text
    data["answer"] = "身份证**原件**"
    saved = await trainer.http.post(f"/faq/{entry_id}", data=data)
    assert saved.status_code == 303
    page = (await trainer.http.get(saved.headers["location"])).text
    assert "移机材料" in page and "<strong>原件</strong>" in page
    gone = await trainer.http.post(
        f"/faq/{entry_id}/delete", data={"csrf_token": trainer.csrf_token}
    )
    assert gone.status_code == 303 and gone.headers["location"] == "/faq?deleted=1"
    assert (await trainer.http.get(location)).status_code == 404
    tokenless = await trainer.http.post(f"/faq/{entry_id}/delete", data={})
    assert tokenless.status_code == 403


async def test_the_notice_page_opens_its_discussion_thread(login, cast: Cast) -> None:
    trainer = await login("zhangwei")
    notice_id = await published(trainer, notice_body(cast))
    clerk = await login("wangfang")
    page = (await clerk.http.get(f"/notices/{notice_id}")).text
    assert f'action="/notices/{notice_id}/discussion"' in page
    opened = await clerk.http.post(
        f"/notices/{notice_id}/discussion", data={"csrf_token": clerk.csrf_token}
    )
    assert opened.status_code == 303
    room = await clerk.http.get(opened.headers["location"])
    assert room.status_code == 200 and "机顶盒收费新规" in room.text
    again = await clerk.http.post(
        f"/notices/{notice_id}/discussion", data={"csrf_token": clerk.csrf_token}
    )
    assert again.headers["location"] == opened.headers["location"]
    assert 'id="room-notice-link"' in room.text
    room_id = opened.headers["location"].rsplit("/", 1)[-1]
    back = await clerk.http.get(f"/notices/discussion/{room_id}")
    assert back.status_code == 303 and back.headers["location"] == f"/notices/{notice_id}"
    not_a_thread = await clerk.http.get(f"/notices/discussion/{cast.company_room_id}")
    assert not_a_thread.status_code == 404
