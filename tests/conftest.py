"""Fixtures: a migrated, seeded database per test, a live server, clients and browsers.

COUNTERLINE_TEST_DATABASE=sqlite (default) or postgresql selects the backend.
Tests that need PostgreSQL or Redis skip with a reason when the service is absent,
except under CI=true, where a missing service fails the run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from counterline.config import Settings
from counterline.services import Services
from tests.cast import Cast
from tests.services import postgres_reachable, redis_reachable
from tests.support.clients import Client
from tests.support.databases import PostgresDatabases, build_template, copy_sqlite, sqlite_url
from tests.support.live import LiveServer
from tests.support.nodes import RedisServer

BACKEND = os.environ.get("COUNTERLINE_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get(
    "COUNTERLINE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("COUNTERLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI") == "true"


def require_service(name: str, reachable: bool, where: str) -> None:
    if reachable:
        return
    message = f"{name} is not reachable at {where}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    return asyncio.run(postgres_reachable(POSTGRES_URL))


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", asyncio.run(redis_reachable(REDIS_URL)), REDIS_URL)
    return REDIS_URL


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own on a free port, which the test may stop and start."""
    require_service("redis-server", RedisServer.available(), "PATH")
    redis = RedisServer(tmp_path).start()
    yield redis
    redis.stop()


@pytest.fixture(scope="session")
def postgres(postgres_available: bool) -> Iterator[PostgresDatabases]:
    require_service("PostgreSQL", postgres_available, POSTGRES_URL)
    databases = PostgresDatabases(POSTGRES_URL)
    yield databases
    asyncio.run(databases.drop_all())


@pytest.fixture(scope="session")
def template(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[str, Cast]:
    """The migrated, seeded database every test copies: (location, cast)."""
    if BACKEND == "postgresql":
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        name = asyncio.run(databases.create())
        cast = asyncio.run(build_template(Settings(database_url=databases.url_of(name))))
        return name, cast
    path = tmp_path_factory.mktemp("template") / "template.db"
    cast = asyncio.run(build_template(Settings(database_url=sqlite_url(path))))
    return str(path), cast


@pytest.fixture
def cast(template: tuple[str, Cast]) -> Cast:
    return template[1]


@pytest.fixture
def database_url(template: tuple[str, Cast], tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh copy of the template database for this test."""
    location, _ = template
    if BACKEND == "postgresql":
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        return databases.url_of(asyncio.run(databases.create(template=location)))
    return copy_sqlite(Path(location), tmp_path / "counterline.db")


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path,
            "database_url": database_url,
            "presence_grace_seconds": 0.5,
            "heartbeat_timeout_seconds": 45,
        }
        return Settings(**{**values, **overrides})

    return make


@pytest.fixture
def start_server(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., LiveServer]]:
    """Start live servers with settings overrides; all are stopped after the test."""
    started: list[LiveServer] = []

    def start(plain_uvicorn: bool = False, **overrides: Any) -> LiveServer:
        server = LiveServer(make_settings(**overrides), plain_uvicorn=plain_uvicorn).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server()


@pytest.fixture
async def services(make_settings: Callable[..., Settings]) -> AsyncIterator[Services]:
    """Direct database access for the test itself (to check what was stored)."""
    services = Services.from_settings(make_settings())
    yield services
    await services.database.dispose()


@pytest.fixture
def login(server: LiveServer, sign_in: Callable[..., Any]) -> Callable[..., Any]:
    """``await login("wangfang")`` gives a logged-in Client on the live server."""

    async def log_in(username: str, **kwargs: Any) -> Client:
        return await sign_in(server, username, **kwargs)

    return log_in


@pytest.fixture
async def sign_in() -> AsyncIterator[Callable[..., Any]]:
    """``await sign_in(server, "wangfang")``: a logged-in Client on any live server."""
    clients: list[Client] = []

    async def log_in(live: LiveServer, username: str, **kwargs: Any) -> Client:
        client = Client(live.url)
        clients.append(client)
        response = await client.log_in(username, **kwargs)
        assert response.status_code == 200, response.text
        return client

    yield log_in
    for client in clients:
        await client.close()


@pytest.fixture
def empty_database_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database with nothing in it, not even tables (a first start)."""
    if BACKEND == "postgresql":
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        return databases.url_of(asyncio.run(databases.create()))
    (tmp_path / "empty").mkdir()
    return sqlite_url(tmp_path / "empty" / "counterline.db")
