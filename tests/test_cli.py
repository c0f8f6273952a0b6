"""The `counterline` command, run for real as a subprocess on a data directory: first steps
in any order, the account commands, and a database never created by mistake."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from counterline.accounts.models import User
from counterline.audit.models import AuditEntry
from counterline.config import Settings
from counterline.db import create_engine
from counterline.demo import load_demo
from counterline.migrate import upgrade
from counterline.services import Services
from tests.cast import PASSWORD
from tests.conftest import BACKEND
from tests.support.cli import COUNTERLINE, cli_environment
from tests.support.clients import Client
from tests.support.databases import PostgresDatabases
from tests.support.live import free_port
from tests.support.waiting import wait_for

BRANCH = "城北营业厅"


@dataclass
class Installation:
    """A data directory set up through the CLI alone; ``database_url`` is "" for the
    SQLite database inside the data directory."""

    data_dir: Path
    database_url: str
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_in(self.data_dir.parent, self.database_url, "--data-dir", str(self.data_dir),
                      *args, stdin=stdin)  # fmt: skip

    @property
    def label(self) -> str:
        """How the commands name this database."""
        return self.database_url or str(self.data_dir / "counterline.db")

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)


def run_in(
    folder: Path, database_url: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``counterline ARGS`` started in ``folder``, as an operator would type it there."""
    return subprocess.run(
        [COUNTERLINE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=folder,
        env=cli_environment(database_url),
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
        "init": ["init"],
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
    assert sorted(user["username"] for user in users) == ["admin", "wangfang", "zhaomin"]


def test_duplicate_branch_is_a_clear_error(installation: Installation) -> None:
    run = installation.run("branch", "add", BRANCH)
    assert run.returncode != 0
    assert BRANCH in run.stderr
    assert "Traceback" not in run.stderr


@dataclass
class Served:
    url: str
    printed: str

    @property
    def one_time_password(self) -> str | None:
        found = re.search(r"one-time password: (\S+)", self.printed)
        return found.group(1) if found else None


@asynccontextmanager
async def serving(data_dir: Path, database_url: str) -> AsyncIterator[Served]:
    """`counterline serve` in a subprocess, once it answers; what it printed until then."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        COUNTERLINE, "--data-dir", str(data_dir), "serve", "--port", str(port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=cli_environment(database_url),
    )  # fmt: skip
    assert process.stdout is not None
    printed: list[str] = []
    try:
        while not any("Counterline on http" in line for line in printed):
            line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
            assert line, "serve exited: " + "".join(printed)
            printed.append(line.decode())
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
        yield Served(url, "".join(printed))
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)


async def admin_logs_in(url: str, password: str | None) -> None:
    assert password is not None
    response = await log_in(url, "admin", password)
    assert response.status_code == 200, response.text
    assert response.json()["must_change_password"] is True
    assert response.json()["user"]["role"] == "admin"


async def test_serve_on_first_start_prints_the_admin_one_time_password(
    tmp_path: Path, database_for_serve: str
) -> None:
    async with serving(tmp_path / "data", database_for_serve) as served:
        assert "username: admin" in served.printed
        await admin_logs_in(served.url, served.one_time_password)


# First steps in any order


def test_a_command_in_a_folder_without_a_database_refuses_and_creates_nothing(
    tmp_path: Path, database_for_serve: str
) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    where = database_for_serve or str(folder / "data" / "counterline.db")
    for args in (["branch", "add", BRANCH], ["user", "list"], ["demo"]):
        run = run_in(folder, database_for_serve, *args)
        assert run.returncode != 0, run.stdout
        assert where in run.stderr
        assert "counterline init" in run.stderr
        assert "--data-dir" in run.stderr
        assert "Traceback" not in run.stderr
    assert list(folder.iterdir()) == []
    if database_for_serve:
        assert asyncio.run(table_names(database_for_serve)) == []


async def table_names(database_url: str) -> list[str]:
    from sqlalchemy import inspect

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()


async def test_init_creates_the_database_and_the_admin_once(
    tmp_path: Path, database_for_serve: str
) -> None:
    first = run_in(tmp_path, database_for_serve, "init")
    assert first.returncode == 0, first.stderr
    password = Served("", first.stdout).one_time_password
    if not database_for_serve:
        assert (tmp_path / "data" / "counterline.db").is_file()
    again = run_in(tmp_path, database_for_serve, "init")
    assert again.returncode == 0, again.stderr
    assert "one-time password" not in again.stdout
    added = run_in(tmp_path, database_for_serve, "branch", "add", BRANCH)
    assert added.returncode == 0, added.stderr
    async with serving(tmp_path / "data", database_for_serve) as served:
        assert served.one_time_password is None
        await admin_logs_in(served.url, password)


async def test_the_admin_made_by_init_logs_in_after_branch_add_and_the_demo(
    tmp_path: Path, database_for_serve: str
) -> None:
    refused = run_in(tmp_path, database_for_serve, "branch", "add", BRANCH)
    assert refused.returncode != 0
    setup = Installation(tmp_path / "data", database_for_serve)
    password = Served("", succeeded(setup.run("init"))).one_time_password
    succeeded(setup.run("branch", "add", BRANCH))
    succeeded(setup.run("demo", "--password-stdin", stdin=PASSWORD + "\n"))
    async with serving(setup.data_dir, database_for_serve) as served:
        assert served.one_time_password is None
        await admin_logs_in(served.url, password)


async def test_serve_creates_the_admin_for_a_database_the_demo_filled_without_one(
    tmp_path: Path, database_for_serve: str
) -> None:
    """As an earlier version left it when `demo` ran before the first `serve`."""
    settings = Settings(data_dir=tmp_path / "data", database_url=database_for_serve)
    settings.data_dir.mkdir()
    await demo_without_admin(settings)
    async with serving(settings.data_dir, database_for_serve) as served:
        await admin_logs_in(served.url, served.one_time_password)
        assert (await log_in(served.url, "demo_li", PASSWORD)).status_code == 200


async def demo_without_admin(settings: Settings) -> None:
    services = Services.from_settings(settings)
    try:
        await upgrade(services.database)
        await load_demo(services, PASSWORD)
    finally:
        await services.database.dispose()


# What the admin console will do, from the command line


@pytest.fixture(scope="module")
def staff(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Installation:
    """Its own installation: these tests change accounts."""
    setup = Installation(tmp_path_factory.mktemp("staff") / "data", fresh_database(request))
    succeeded(setup.run("init"))
    succeeded(setup.run("branch", "add", BRANCH))
    for username, name, role in STAFF:
        succeeded(setup.run("user", "add", username, "--name", name, "--branch", BRANCH,
                            "--role", role, "--password-stdin", stdin=PASSWORD + "\n"))  # fmt: skip
    return setup


STAFF = [
    ("lina", "李娜", "clerk"),
    ("zhouqiang", "周强", "clerk"),
    ("chengang", "陈刚", "clerk"),
    ("liuyang", "刘洋", "trainer"),
    ("wujing", "吴静", "trainer"),
]


async def audited(setup: Installation, action: str, username: str) -> list[AuditEntry]:
    """The audit entries of ``action`` about ``username``'s account."""
    services = Services.from_settings(setup.settings())
    try:
        async with services.reading() as unit:
            user_id = await unit.session.scalar(select(User.id).where(User.username == username))
            query = select(AuditEntry).where(
                AuditEntry.action == action, AuditEntry.target == f"user:{user_id}"
            )
            return list(await unit.session.scalars(query))
    finally:
        await services.database.dispose()


async def test_user_list_shows_branch_role_state_and_last_login_and_filters(
    staff: Installation, start_server
) -> None:
    live = serve_on(start_server, staff)
    assert (await log_in(live.url, "wujing", PASSWORD)).status_code == 200
    listed = succeeded(staff.run("user", "list"))
    assert re.search(rf"^wujing\t吴静\t{BRANCH}\ttrainer\tactive\t\d{{4}}-\d\d-\d\d \d\d:\d\d$",
                     listed, re.M), listed  # fmt: skip
    assert re.search(r"^admin\t管理员\t总部\tadmin\tactive\t-$", listed, re.M), listed
    admins = succeeded(staff.run("user", "list", "--branch", "总部"))
    assert [line.split("\t")[0] for line in admins.splitlines()] == ["admin"]
    trainers = succeeded(staff.run("user", "list", "--role", "trainer", "--branch", BRANCH))
    assert {"wujing", "liuyang"} <= {line.split("\t")[0] for line in trainers.splitlines()}
    assert "lina" not in trainers
    unknown = staff.run("user", "list", "--branch", "火星营业厅")
    assert unknown.returncode != 0 and "火星营业厅" in unknown.stderr


async def test_set_role_changes_the_role_and_is_audited_and_role_still_works(
    staff: Installation, start_server
) -> None:
    changed = staff.run("user", "set-role", "chengang", "manager")
    assert succeeded(changed) == "chengang is now manager.\n"
    assert f"Database: {staff.label}" in changed.stderr
    live = serve_on(start_server, staff)
    response = await log_in(live.url, "chengang", PASSWORD)
    assert response.json()["user"]["role"] == "manager"
    succeeded(staff.run("user", "role", "chengang", "trainer"))
    [first, second] = await audited(staff, "user.role_changed", "chengang")
    assert (first.details["to_role"], second.details["to_role"]) == ("manager", "trainer")
    assert "\ttrainer\t" in succeeded(staff.run("user", "list", "--role", "trainer"))


async def test_reset_password_ends_sessions_and_gives_a_one_time_password(
    staff: Installation, start_server
) -> None:
    live = serve_on(start_server, staff)
    before = Client(live.url)
    assert (await before.log_in("lina", PASSWORD)).status_code == 200
    output = succeeded(staff.run("user", "reset-password", "lina"))
    one_time = re.search(r"One-time password: (\S+)", output)
    assert one_time, output
    await wait_for(lambda: logged_out(before), 10, "her session to end")
    await before.close()
    assert (await log_in(live.url, "lina", PASSWORD)).status_code == 401
    clerk = Client(live.url)
    login = await clerk.log_in("lina", one_time.group(1))
    assert login.status_code == 200 and login.json()["must_change_password"] is True
    assert (await clerk.http.get("/api/v1/rooms")).status_code == 403
    changed = await clerk.http.put(
        "/api/v1/session/password",
        json={"current_password": one_time.group(1), "new_password": "lina-new-pass-1"},
        headers={"X-CSRF-Token": clerk.csrf_token},
    )
    assert changed.status_code == 204
    assert (await clerk.http.get("/api/v1/rooms")).status_code == 200
    await clerk.close()
    assert len(await audited(staff, "user.password_reset", "lina")) == 1


async def logged_out(client: Client | httpx.AsyncClient) -> bool:
    http = client.http if isinstance(client, Client) else client
    return (await http.get("/api/v1/session")).status_code == 401


async def test_deactivate_logs_out_revokes_tokens_and_is_audited(
    staff: Installation, start_server
) -> None:
    token = succeeded(staff.run("token", "create", "zhouqiang")).strip()
    output = succeeded(staff.run("user", "deactivate", "zhouqiang"))
    assert "zhouqiang" in output
    live = serve_on(start_server, staff)
    assert (await log_in(live.url, "zhouqiang", PASSWORD)).status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live.url, headers=bearer) as http:
        await wait_for(lambda: logged_out(http), 10, "his token to stop working")
    assert re.search(r"^zhouqiang\t.*\tdeactivated\t", succeeded(staff.run("user", "list")), re.M)
    assert "zhouqiang" not in succeeded(staff.run("token", "list"))
    assert len(await audited(staff, "user.deactivated", "zhouqiang")) == 1


async def test_unlock_forgets_failed_logins_and_is_audited(
    staff: Installation, start_server
) -> None:
    live = serve_on(start_server, staff)
    for _ in range(2):
        assert (await log_in(live.url, "liuyang", "not-her-password")).status_code == 401
    output = succeeded(staff.run("user", "unlock", "liuyang"))
    assert output == "Unlocked liuyang (2 failed logins forgotten).\n"
    [entry] = await audited(staff, "user.unlocked", "liuyang")
    assert entry.details["failures"] == 2


async def test_token_create_with_a_scope_and_expiry_makes_a_token_held_to_them(
    staff: Installation, start_server
) -> None:
    made = staff.run("token", "create", "wujing", "--label", "看板", "--scope", "read",
                     "--expires-in-days", "7")  # fmt: skip
    secret = succeeded(made).strip()
    listed = succeeded(staff.run("token", "list", "wujing"))
    assert re.search(r"^\d+\twujing\t看板\t.*\tread\t\d{4}-", listed, re.M), listed
    refused = staff.run("token", "create", "wujing", "--scope", "admin")
    assert refused.returncode != 0 and "admin" in refused.stderr
    live = serve_on(start_server, staff)
    bearer = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    async with httpx.AsyncClient(base_url=live.url, headers=bearer) as http:
        assert (await http.get("/api/v1/session")).status_code == 200
        refused_write = await http.put("/api/v1/account/notifications", json={"level": "all"})
        assert refused_write.status_code == 403


async def test_token_list_and_revoke_and_the_revocation_is_audited(
    staff: Installation, start_server
) -> None:
    secret = succeeded(staff.run("token", "create", "wujing", "--label", "值班脚本")).strip()
    listed = succeeded(staff.run("token", "list", "wujing"))
    found = re.search(r"^(\d+)\twujing\t值班脚本\t", listed, re.M)
    assert found, listed
    live = serve_on(start_server, staff)
    bearer = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live.url, headers=bearer) as http:
        assert (await http.get("/api/v1/session")).status_code == 200
        revoked = staff.run("token", "revoke", found.group(1))
        assert succeeded(revoked) == f"Revoked API token {found.group(1)}.\n"
        await wait_for(lambda: logged_out(http), 10, "the token to stop working")
    assert "值班脚本" not in succeeded(staff.run("token", "list"))
    [entry] = await audited(staff, "token.revoked", "wujing")
    assert entry.details["token_id"] == int(found.group(1))
