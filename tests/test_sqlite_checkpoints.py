"""On SQLite, the write-ahead log is copied back by a worker thread, never inside a commit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from counterline.services import Services
from tests.cast import Cast
from tests.conftest import BACKEND
from tests.support.clients import Client

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite only")


async def test_posts_reach_the_database_file_through_the_background_checkpoint(
    login, services: Services, cast: Cast
) -> None:
    async with services.reading() as unit:
        assert await unit.session.scalar(text("PRAGMA wal_autocheckpoint")) == 0
    assert services.database.sqlite_path is not None
    database_file = Path(services.database.sqlite_path)
    wang: Client = await login("wangfang")
    before = database_file.stat().st_mtime_ns
    for number in range(20):
        sent = await wang.post_message(cast.company_room_id, f"日志 {number}", f"wal-{number:04d}")
        assert sent.status_code == 201
    deadline = time.monotonic() + 5
    while database_file.stat().st_mtime_ns == before:
        assert time.monotonic() < deadline, "nothing copied the log into the database file"
        await asyncio.sleep(0.1)
