"""Past capacity the server refuses posts explicitly; it never drops one silently."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from counterline.messages.models import Message
from counterline.services import Services
from tests.cast import Cast
from tests.support.clients import Client


async def count_messages(services: Services) -> int:
    async with services.reading() as unit:
        return await unit.session.scalar(select(func.count()).select_from(Message)) or 0


async def test_saturated_server_answers_429_with_retry_after_and_stores_nothing(
    start_server, sign_in, services: Services, cast: Cast
) -> None:
    server = start_server(max_queued_writes=0)
    wang: Client = await sign_in(server, "wangfang")
    refused = await wang.post_message(cast.company_room_id, "忙", "overload-0001")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]
    assert await count_messages(services) == 0


async def test_every_post_under_a_burst_is_either_stored_or_refused_never_lost(
    start_server, sign_in, services: Services, cast: Cast
) -> None:
    server = start_server(max_queued_writes=2)
    clients = [await sign_in(server, name) for name in ("wangfang", "lina", "zhouqiang")]
    posts = [(clients[n % 3], f"burst {n}", f"burst-{n:04d}") for n in range(45)]
    answers = await asyncio.gather(
        *(client.post_message(cast.company_room_id, body, cid) for client, body, cid in posts)
    )
    assert {answer.status_code for answer in answers} <= {201, 429}
    stored = {answer.json()["client_id"] for answer in answers if answer.status_code == 201}
    async with services.reading() as unit:
        in_database = set(await unit.session.scalars(select(Message.client_id)))
    assert in_database == stored
