"""Who may unmark a question, as the room's message menu offers it: whoever marked it (by
id), even after losing the trainer's role, and not a colleague who happens to bear the
marker's display name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from counterline.accounts.models import Role, User
from counterline.config import Settings
from counterline.faq.actions import mark_question
from counterline.messages.models import Message
from counterline.services import Services
from tests.browser.conftest import Tab
from tests.browser.seeding import post_history, run_in_thread
from tests.cast import Cast

pytestmark = pytest.mark.browser
QUESTION = "积分兑换话费怎么操作"


async def _mark_then_rename_and_demote(settings: Settings, message_id: int) -> None:
    """张伟 (trainer) marks the question; then 周强 takes the name 张伟 and 张伟 becomes a clerk."""
    services = Services.from_settings(settings)
    try:
        async with services.transaction() as unit:
            trainer = await unit.session.scalar(select(User).where(User.username == "zhangwei"))
            assert trainer is not None
            await mark_question(unit, trainer, message_id)
            await unit.session.execute(
                update(User).where(User.username == "zhouqiang").values(display_name="张伟")
            )
            trainer.role = Role.clerk
    finally:
        await services.database.dispose()


async def _message_id(settings: Settings, body: str) -> int:
    services = Services.from_settings(settings)
    try:
        async with services.reading() as unit:
            found = await unit.session.scalar(select(Message.id).where(Message.body == body))
            assert found is not None
            return found
    finally:
        await services.database.dispose()


def test_the_marker_may_unmark_and_a_namesake_may_not(open_tab, server, cast: Cast) -> None:
    post_history(server.settings, cast.company_room_id, "lina", [(QUESTION, datetime.now(UTC))])
    message_id = run_in_thread(_message_id(server.settings, QUESTION))
    run_in_thread(_mark_then_rename_and_demote(server.settings, message_id))
    row = f'#messages > li.message[data-message-id="{message_id}"]'

    namesake: Tab = open_tab()
    namesake.enter("zhouqiang", f"/rooms/{cast.company_room_id}")
    question = namesake.page.locator(row)
    expect(question.locator(".question-mark")).to_have_text(namesake.string("question_open"))
    expect(question.locator(".actions-toggle")).to_have_count(0)

    marker: Tab = open_tab()
    marker.enter("zhangwei", f"/rooms/{cast.company_room_id}")
    question = marker.page.locator(row)
    expect(question.locator(".question-mark")).to_be_visible()
    question.hover()
    question.locator(".actions-toggle").click()
    marker.page.get_by_role("menuitem", name=marker.string("unmark_question")).click()
    expect(question.locator(".question-mark")).to_have_count(0)
    expect(namesake.page.locator(row).locator(".question-mark")).to_have_count(0)
