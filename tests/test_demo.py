"""`counterline demo` gives a new installation something real to look at, whatever was
added before it (the README's own `branch add 城北营业厅`), and only once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cast import PASSWORD
from tests.support.clients import Client
from tests.test_cli import BRANCH, Installation, fresh_database, serve_on, succeeded

DEMO_PASSWORD = "demo-pass-123"


@pytest.fixture
def setup(tmp_path: Path, request: pytest.FixtureRequest) -> Installation:
    """An installation made with `counterline init`, as the README starts one."""
    made = Installation(tmp_path / "data", fresh_database(request))
    succeeded(made.run("init"))
    return made


def load_demo(setup: Installation) -> str:
    return succeeded(setup.run("demo", "--password-stdin", stdin=DEMO_PASSWORD + "\n"))


async def company_room_of(url: str, username: str, password: str) -> dict:
    """What ``username`` sees: her rooms and the company room's messages."""
    clerk = Client(url)
    try:
        assert (await clerk.log_in(username, password)).status_code == 200
        rooms = (await clerk.http.get("/api/v1/rooms")).json()
        company = next(room for room in rooms["rooms"] if room["kind"] == "company")
        page = (await clerk.http.get(f"/api/v1/rooms/{company['id']}/messages")).json()
        faq = (await clerk.http.get("/api/v1/faq")).json()
    finally:
        await clerk.close()
    return {"rooms": rooms, "messages": page["messages"], "faq": faq["entries"]}


async def test_demo_clerk_logs_in_and_reads_the_demo_conversation(
    setup: Installation, start_server
) -> None:
    assert "demo_li" in load_demo(setup)
    live = serve_on(start_server, setup)
    seen = await company_room_of(live.url, "demo_li", DEMO_PASSWORD)
    branches = {message["branch"]["name"] for message in seen["messages"]}
    assert len(seen["messages"]) == 5
    assert {"城北营业厅", "花桥营业厅", "城南营业厅"} <= branches
    assert [t["name"] for t in seen["rooms"]["joinable"]] == ["新业务培训"]
    question, answer = seen["messages"][0], seen["messages"][1]
    assert [
        (e["topic"], e["question_message_id"], e["answer_message_id"]) for e in seen["faq"]
    ] == [("宽带", question["id"], answer["id"])]


async def test_demo_loads_after_the_readme_adds_a_branch_and_a_clerk(
    setup: Installation, start_server
) -> None:
    succeeded(setup.run("branch", "add", BRANCH))
    succeeded(setup.run("user", "add", "wangfang", "--name", "王芳", "--branch", BRANCH,
                        "--role", "clerk", "--password-stdin", stdin=PASSWORD + "\n"))  # fmt: skip
    loaded = load_demo(setup)
    assert "demo_wang" in loaded
    branches = succeeded(setup.run("branch", "list")).splitlines()
    assert [line.split("\t")[1] for line in branches].count(BRANCH) == 1
    live = serve_on(start_server, setup)
    seen = await company_room_of(live.url, "wangfang", PASSWORD)
    assert len(seen["messages"]) == 5
    assert [room["name"] for room in seen["rooms"]["rooms"]] == ["全公司", BRANCH]
    demo_clerk = await company_room_of(live.url, "demo_wang", DEMO_PASSWORD)
    assert [room["name"] for room in demo_clerk["rooms"]["rooms"]] == ["全公司", BRANCH]


async def test_loading_the_demo_twice_is_refused_and_stores_nothing_twice(
    setup: Installation, start_server
) -> None:
    load_demo(setup)
    again = setup.run("demo", "--password-stdin", stdin=DEMO_PASSWORD + "\n")
    assert again.returncode != 0
    assert "演示数据已加载。" in again.stderr
    users = succeeded(setup.run("user", "list")).splitlines()
    assert sum(line.startswith("demo_") for line in users) == 5
    live = serve_on(start_server, setup)
    seen = await company_room_of(live.url, "demo_li", DEMO_PASSWORD)
    assert len(seen["messages"]) == 5
