"""The `counterline` command, run for real as a subprocess on a data directory."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.cast import PASSWORD
from tests.conftest import BACKEND
from tests.support.cli import COUNTERLINE, cli_environment
from tests.support.databases import PostgresDatabases
from tests.support.live import free_port

BRANCH = "城北营业厅"


@dataclass
class Installation:
    """A data directory set up through the CLI alone; ``database_url`` is "" for the
    SQLite database inside the data directory."""

    data_dir: Path
    database_url: str
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [COUNTERLINE, "--data-dir", str(self.data_dir), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=cli_environment(self.database_url),
            timeout=120,
        )


def fresh_database(request: pytest.FixtureRequest) -> str:
    if BACKEND != "postgresql":
        return ""
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    return databases.url_of(asyncio.run(databases.create()))


@pytest.fixture
def database_for_serve(request: pytest.FixtureRequest) -> str:
    return fresh_database(request)


@pytest.fixture(scope="module")
def installation(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Installation]:
    setup = Installation(tmp_path_factory.mktemp("cli") / "data", fresh_database(request))
    steps = {
        "branch add": ["branch", "add", BRANCH],
        "user add --password-stdin": [
            "user", "add", "wangfang", "--name", "王芳", "--branch", BRANCH,
            "--role", "clerk", "--password-stdin",
        ],
        "user add": ["user", "add", "zhaomin", "--name", "赵敏", "--branch", BRANCH,
                     "--role", "manager"],
        "token create": ["token", "create", "wangfang"],
    }  # fmt: skip
    for name, args in steps.items():
        stdin = PASSWORD + "\n" if "--password-stdin" in args else None
        setup.runs[name] = setup.run(*args, stdin=stdin)
    yield setup


def succeeded(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def serve_on(start_server, installation: Installation):  # type: ignore[no-untyped-def]
    return start_server(data_dir=installation.data_dir, database_url=installation.database_url)


async def log_in(url: str, username: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.post("/api/v1/session", json={"username": username, "password": password})


def test_branch_add_creates_a_branch(installation: Installation) -> None:
    added = succeeded(installation.runs["branch add"])
    assert re.fullmatch(rf"Added branch {BRANCH} \(id \d+\)\.\n", added), added


async def test_user_add_with_password_stdin_sets_that_password(
    installation: Installation, start_server
) -> None:
    output = succeeded(installation.runs["user add --password-stdin"])
    assert "wangfang" in output
    assert PASSWORD not in output
    assert "one-time" not in output.lower()
    live = serve_on(start_server, installation)
    response = await log_in(live.url, "wangfang", PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json()["must_change_password"] is False
    assert response.json()["user"]["branch_name"] == BRANCH
    assert response.json()["user"]["role"] == "clerk"


async def test_user_add_without_a_password_prints_a_one_time_password(
    installation: Installation, start_server
) -> None:
    output = succeeded(installation.runs["user add"])
    found = re.search(r"One-time password: (\S+)", output)
    assert found, output
    live = serve_on(start_server, installation)
    response = await log_in(live.url, "zhaomin", found.group(1))
    assert response.status_code == 200, response.text
    assert response.json()["must_change_password"] is True
    assert response.json()["user"]["role"] == "manager"


async def test_token_create_prints_a_token_that_works_as_bearer(
    installation: Installation, start_server
) -> None:
    token = succeeded(installation.runs["token create"]).strip()
    assert re.fullmatch(r"[\w-]{20,}", token), token
    live = serve_on(start_server, installation)
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        who = await http.get("/api/v1/session")
        rooms = await http.get("/api/v1/rooms")
    assert who.status_code == 200
    assert who.json()["user"]["username"] == "wangfang"
    assert [room["name"] for room in rooms.json()["rooms"]] == ["全公司", BRANCH]


def test_unknown_role_is_refused_with_the_choices(installation: Installation) -> None:
    run = installation.run("user", "add", "liuyang", "--name", "刘洋", "--branch", BRANCH,
                           "--role", "boss")  # fmt: skip
    assert run.returncode != 0
    assert "boss" in run.stderr
    assert "clerk" in run.stderr


async def test_unknown_branch_is_a_clear_error_and_adds_nobody(
    installation: Installation, start_server
) -> None:
    run = installation.run("user", "add", "liuyang", "--name", "刘洋", "--branch", "火星营业厅")
    assert run.returncode != 0
    assert "火星营业厅" in run.stderr
    assert "Traceback" not in run.stderr
    token = succeeded(installation.runs["token create"]).strip()
    live = serve_on(start_server, installation)
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        users = (await http.get("/api/v1/users")).json()["users"]
    assert sorted(user["username"] for user in users) == ["wangfang", "zhaomin"]


def test_duplicate_branch_is_a_clear_error(installation: Installation) -> None:
    run = installation.run("branch", "add", BRANCH)
    assert run.returncode != 0
    assert BRANCH in run.stderr
    assert "Traceback" not in run.stderr


async def test_serve_on_first_start_prints_the_admin_one_time_password(
    tmp_path: Path, database_for_serve: str
) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        COUNTERLINE, "--data-dir", str(tmp_path / "data"), "serve", "--port", str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=cli_environment(database_for_serve),
    )  # fmt: skip
    assert process.stdout is not None
    printed: list[str] = []
    try:
        password = None
        while password is None:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
            assert line, "serve exited: " + "".join(printed)
            printed.append(line.decode())
            if found := re.search(r"one-time password: (\S+)", printed[-1]):
                password = found.group(1)
        assert any("username: admin" in line for line in printed)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=url) as http:
            while True:
                try:
                    if (await http.get("/login")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "serve did not answer on /login"
                await asyncio.sleep(0.1)
        response = await log_in(url, "admin", password)
        assert response.status_code == 200, response.text
        assert response.json()["must_change_password"] is True
        assert response.json()["user"]["role"] == "admin"
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
