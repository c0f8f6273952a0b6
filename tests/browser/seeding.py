"""Putting data straight into a live server's database from a browser test.

Playwright's sync API leaves its event loop marked as running in the test's thread, so the
coroutines here run with asyncio.run in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update

from counterline.accounts.actions import start_session
from counterline.accounts.models import Role, User
from counterline.branches.models import Branch
from counterline.config import Settings
from counterline.messages.actions import post_message
from counterline.messages.models import Message
from counterline.people.actions import add_user
from counterline.services import Services

T = TypeVar("T")


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _post_history(
    settings: Settings, room_id: int, username: str, items: list[tuple[str, datetime]]
) -> None:
    services = Services.from_settings(settings)
    try:
        async with services.transaction() as unit:
            author = await unit.session.scalar(select(User).where(User.username == username))
            assert author is not None
            for number, (body, at) in enumerate(items):
                client_id = f"seeded-{number:05d}"
                await post_message(unit, author, room_id, body, client_id, "10.20.30.40")
                await unit.session.execute(
                    update(Message)
                    .where(Message.author_id == author.id, Message.client_id == client_id)
                    .values(created_at=at)
                )
    finally:
        await services.database.dispose()


def post_history(
    settings: Settings, room_id: int, username: str, items: list[tuple[str, datetime]]
) -> None:
    """Store messages (body, time) by one author, as if posted at those times."""
    run_in_thread(_post_history(settings, room_id, username, items))


async def _add_newcomer(settings: Settings, username: str, branch_name: str) -> str:
    services = Services.from_settings(settings)
    try:
        async with services.transaction() as unit:
            branch = await unit.session.scalar(select(Branch).where(Branch.name == branch_name))
            assert branch is not None
            _, one_time = await add_user(
                unit, username=username, display_name="新同事", branch=branch, role=Role.clerk
            )
    finally:
        await services.database.dispose()
    assert one_time is not None
    return one_time


def add_newcomer(settings: Settings, username: str, branch_name: str) -> str:
    """Add a clerk with a one-time password (they must choose their own); returns it."""
    return run_in_thread(_add_newcomer(settings, username, branch_name))


async def _open_session(settings: Settings, username: str) -> tuple[str, str]:
    services = Services.from_settings(settings)
    try:
        async with services.transaction() as unit:
            user = await unit.session.scalar(select(User).where(User.username == username))
            assert user is not None
            token, session = await start_session(unit, user, "127.0.0.1")
            return token, session.csrf_token
    finally:
        await services.database.dispose()


def open_session(settings: Settings, username: str) -> tuple[str, str]:
    """A logged-in session made without the (deliberately slow) password check.

    Returns (session cookie value, CSRF token). Tests of the login itself use the form.
    """
    return run_in_thread(_open_session(settings, username))
