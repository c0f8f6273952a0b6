"""Who marked a question travels as an id (``marked_by_id``), beside the display name,
in the room's question list and in the ``question.changed`` frames, so a tab can tell
the marker apart from a namesake."""

from __future__ import annotations

from tests.cast import Cast
from tests.support.clients import open_stream, post
from tests.test_faq import mark


async def test_a_question_marked_by_a_trainer_carries_the_trainers_id_in_the_list_and_the_frame(
    server, login, cast: Cast
) -> None:
    clerk = await login("lina")
    stream = await open_stream(server.ws_url, cookie=clerk.session_cookie)
    try:
        trainer = await login("zhangwei")
        room_id = cast.company_room_id
        question_id = await post(clerk, room_id, "积分兑换话费怎么操作", "faq-marker-0001")
        marked = await mark(trainer, question_id)
        assert marked.status_code == 200, marked.text
        assert marked.json()["marked_by_id"] == cast["zhangwei"].id
        frame = await stream.next("question.changed")
        assert frame["question"]["marked_by_id"] == cast["zhangwei"].id
    finally:
        await stream.close()
    listed = (await clerk.http.get(f"/api/v1/rooms/{room_id}/questions")).json()["questions"]
    assert [(q["message_id"], q["marked_by"], q["marked_by_id"]) for q in listed] == [
        (question_id, "张伟", cast["zhangwei"].id)
    ]
