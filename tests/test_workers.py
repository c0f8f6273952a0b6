"""`counterline serve --workers N`: several processes on one machine, sharing events via Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKEND
from tests.support.databases import PostgresDatabases
from tests.support.live import free_port
from tests.support.nodes import RedisServer, wait_until_answers


def test_several_workers_without_redis_are_refused_with_a_reason(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COUNTERLINE_REDIS_URL"}
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "counterline",
            "serve",
            "--data-dir",
            str(tmp_path),
            "--port",
            str(free_port()),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "COUNTERLINE_REDIS_URL" in refused.stderr


def test_several_workers_on_sqlite_are_refused_with_a_reason(tmp_path: Path) -> None:
    env = {**os.environ, "COUNTERLINE_REDIS_URL": "redis://127.0.0.1:6379/0"}
    env.pop("COUNTERLINE_DATABASE_URL", None)
    command = [sys.executable, "-m", "counterline", "serve", "--data-dir", str(tmp_path)]
    refused = subprocess.run(
        [*command, "--port", str(free_port()), "--workers", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "PostgreSQL" in refused.stderr


@pytest.mark.postgres
@pytest.mark.skipif(BACKEND != "postgresql", reason="runs in the PostgreSQL pass")
def test_two_workers_with_redis_serve_with_live_updates_healthy(
    tmp_path: Path, postgres: PostgresDatabases, private_redis: RedisServer
) -> None:
    database_url = postgres.url_of(asyncio.run(postgres.create()))
    port = free_port()
    command = [sys.executable, "-m", "counterline", "serve", "--data-dir", str(tmp_path)]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2"],
        env={
            **os.environ,
            "COUNTERLINE_REDIS_URL": private_redis.url,
            "COUNTERLINE_DATABASE_URL": database_url,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", timeout=30)
        answers = [httpx.get(f"http://127.0.0.1:{port}/healthz").json() for _ in range(6)]
        assert all(answer["live"] == "ok" for answer in answers)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "one-time password" in output
    assert output.count("Application startup complete") == 2
