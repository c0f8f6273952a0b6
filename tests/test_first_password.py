"""A one-time password opens nothing but the password change."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from counterline.accounts.actions import get_branch_named
from counterline.accounts.models import Role
from counterline.people.actions import add_user
from counterline.services import Services
from tests.cast import CHENGBEI, Cast
from tests.support.clients import Client, open_stream


async def add_new_clerk(services: Services) -> str:
    async with services.transaction() as unit:
        branch = await get_branch_named(unit, CHENGBEI)
        _, one_time = await add_user(
            unit, username="xinren", display_name="新人", branch=branch, role=Role.clerk
        )
    assert one_time is not None
    return one_time


async def test_new_clerk_must_choose_a_password_before_using_the_api(
    server, services: Services, cast: Cast
) -> None:
    one_time = await add_new_clerk(services)
    clerk = Client(server.url)
    login = await clerk.log_in("xinren", one_time)
    assert login.status_code == 200
    assert login.json()["must_change_password"] is True

    refused = await clerk.post_message(cast.company_room_id, "你好", "first-pass-0001")
    assert refused.status_code == 403
    assert refused.json()["error"]
    assert (await clerk.http.get("/api/v1/rooms")).status_code == 403
    with pytest.raises(InvalidStatus) as refused_stream:
        await open_stream(server.ws_url, cookie=clerk.session_cookie, last_message_id=0)
    assert refused_stream.value.response.status_code == 403

    changed = await clerk.http.put(
        "/api/v1/session/password",
        json={"current_password": one_time, "new_password": "my-own-pass-9"},
        headers={"X-CSRF-Token": clerk.csrf_token},
    )
    assert changed.status_code == 204
    posted = await clerk.post_message(cast.company_room_id, "你好", "first-pass-0002")
    assert posted.status_code == 201
    await clerk.close()
