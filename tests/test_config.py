"""Settings as an operator writes them: environment variables and the TOML file."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from counterline.config import load_settings
from counterline.services import Services


def test_comma_separated_lists_in_the_environment_are_read_as_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COUNTERLINE_TRUSTED_PROXIES", "10.0.0.5/32, 10.0.0.6/32")
    monkeypatch.setenv("COUNTERLINE_ALLOWED_ORIGINS", "https://chat.example.com")
    settings = load_settings()
    assert settings.trusted_proxies == ["10.0.0.5/32", "10.0.0.6/32"]
    assert settings.allowed_origins == ["https://chat.example.com"]
    assert len(settings.trusted_proxy_networks) == 2


async def test_each_process_holds_the_postgresql_connections_its_settings_allow(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    """Several nodes must fit under PostgreSQL's max_connections together (docs/deploy.md):
    each keeps its pool and opens at most its overflow more."""
    monkeypatch.setenv("COUNTERLINE_DATABASE_POOL_SIZE", "2")
    monkeypatch.setenv("COUNTERLINE_DATABASE_MAX_OVERFLOW", "1")
    monkeypatch.setenv("COUNTERLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("COUNTERLINE_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert (settings.database_pool_size, settings.database_max_overflow) == (2, 1)
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's connections are not pooled this way")
    services = Services.from_settings(settings)
    pool = services.database.engine.pool
    try:
        async with AsyncExitStack() as stack:
            for _ in range(3):
                await stack.enter_async_context(services.database.engine.connect())
            assert (pool.size(), pool.checkedout(), pool.overflow()) == (2, 3, 1)
    finally:
        await services.database.dispose()
