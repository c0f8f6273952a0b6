"""A pooled PostgreSQL connection the server has closed is replaced when it is checked out,
without a ping per checkout; and `counterline serve` writes no access log unless asked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from counterline import cli
from counterline.services import Services
from tests.conftest import BACKEND

BACKEND_PID = text("SELECT pg_backend_pid()")


async def backend_pid(services: Services) -> int:
    async with services.reading() as unit:
        return (await unit.session.execute(BACKEND_PID)).scalar_one()


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's connections only")
async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    services: Services, database_url: str
) -> None:
    first = await backend_pid(services)
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await admin.close()
    await asyncio.sleep(0.5)  # the closed socket reaches the pooled connection

    assert await backend_pid(services) != first


def serve_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> dict[str, Any]:
    """What `counterline serve` hands uvicorn (the database set up, nothing served)."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda *_, **options: seen.update(options))
    monkeypatch.setattr(cli, "_set_up", lambda settings: None)
    result = CliRunner().invoke(cli.main, ["serve", "--data-dir", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    return seen


def test_serve_writes_no_access_log_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COUNTERLINE_ACCESS_LOG", raising=False)
    assert serve_options(monkeypatch, tmp_path)["access_log"] is False


def test_serve_writes_the_access_log_when_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert serve_options(monkeypatch, tmp_path, "--access-log")["access_log"] is True
    monkeypatch.setenv("COUNTERLINE_ACCESS_LOG", "true")
    assert serve_options(monkeypatch, tmp_path)["access_log"] is True
    assert serve_options(monkeypatch, tmp_path, "--no-access-log")["access_log"] is False
