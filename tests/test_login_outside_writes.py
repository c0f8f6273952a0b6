"""A login checks the password (argon2, tens of milliseconds with production settings)
before its write transaction, so a morning of logins does not hold back everyone's posts
(on SQLite one write runs at a time). The throttling still counts every attempt in order
(tests/test_login_throttling.py)."""

from __future__ import annotations

import asyncio
import time

from argon2 import PasswordHasher
from sqlalchemy import update

from counterline.accounts import actions
from counterline.accounts.models import User
from counterline.accounts.secrets import hash_password
from counterline.services import Services
from tests.cast import PASSWORD, Cast
from tests.support.clients import Client, post

# Seconds to verify on this machine, deliberately: the post must not wait for it.
SLOW_HASH = PasswordHasher(time_cost=20, memory_cost=65536, parallelism=1).hash(PASSWORD)


async def test_a_post_is_answered_while_a_slow_password_is_being_checked(
    server, login, services: Services, cast: Cast
) -> None:
    async with services.transaction() as unit:
        await unit.session.execute(
            update(User).where(User.id == cast["lina"].id).values(password_hash=SLOW_HASH)
        )
    poster = await login("wangfang")
    arriving = Client(server.url)
    try:
        finished: dict[str, float] = {}

        async def log_in() -> int:
            response = await arriving.log_in("lina")
            finished["login"] = time.monotonic()
            return response.status_code

        logging_in = asyncio.create_task(log_in())
        await asyncio.sleep(0.3)  # her password is being checked now
        await post(poster, cast.company_room_id, "早上好，开门了", "outside-writes-0001")
        finished["post"] = time.monotonic()
        assert await logging_in == 200
        assert finished["post"] < finished["login"]
    finally:
        await arriving.close()


async def test_a_password_changed_between_the_check_and_the_login_is_checked_again(
    services: Services, cast: Cast
) -> None:
    async with services.reading() as unit:
        verdict = await actions.check_password(unit, "lina", PASSWORD, "10.0.0.9")
    assert verdict is not None and verdict.valid
    async with services.transaction() as unit:
        user = await unit.session.get(User, cast["lina"].id)
        user.password_hash = await hash_password("a-new-secret-2026")
    async with services.transaction() as unit:
        result = await actions.log_in(unit, "lina", PASSWORD, "10.0.0.9", verdict)
    assert result.error is not None and result.user is None
