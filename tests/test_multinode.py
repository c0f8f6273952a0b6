"""Several app processes on PostgreSQL + Redis acting as one installation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from counterline.config import Settings
from tests.cast import CHENGBEI, HUAQIAO, Cast
from tests.conftest import BACKEND
from tests.support.cli import run_cli
from tests.support.clients import Client, open_stream
from tests.support.databases import PostgresDatabases, build_template
from tests.support.nodes import Node, RedisServer
from tests.support.waiting import messages_until, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        BACKEND != "postgresql", reason="multi-node tests run in the PostgreSQL pass"
    ),
]


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresDatabases) -> tuple[str, Cast]:
    name = asyncio.run(postgres.create())
    cast = asyncio.run(build_template(Settings(database_url=postgres.url_of(name))))
    return name, cast


@dataclass
class Cluster:
    database_url: str
    redis: RedisServer
    directory: Path
    cast: Cast
    nodes: list[Node] = field(default_factory=list)

    def start_node(self) -> Node:
        env = {
            "COUNTERLINE_DATABASE_URL": self.database_url,
            "COUNTERLINE_REDIS_URL": self.redis.url,
            "COUNTERLINE_DATA_DIR": str(self.directory),
            "COUNTERLINE_PRESENCE_GRACE_SECONDS": "0.5",
            "COUNTERLINE_NODE_HEARTBEAT_SECONDS": "1",
            "COUNTERLINE_NODE_DEAD_AFTER_SECONDS": "3",
        }
        node = Node(env, self.directory / f"node-{len(self.nodes)}.log").start()
        self.nodes.append(node)
        return node


@pytest.fixture
def cluster(
    postgres: PostgresDatabases,
    postgres_template: tuple[str, Cast],
    tmp_path: Path,
    private_redis: RedisServer,
) -> Iterator[Cluster]:
    name, cast = postgres_template
    database = asyncio.run(postgres.create(template=name))
    cluster = Cluster(postgres.url_of(database), private_redis, tmp_path, cast)
    yield cluster
    for node in cluster.nodes:
        node.stop()


@pytest.fixture
async def clients() -> Any:
    opened: list[Client] = []

    async def sign_in(node: Node, username: str) -> Client:
        client = Client(node.url)
        opened.append(client)
        response = await client.log_in(username)
        assert response.status_code == 200, response.text
        return client

    yield sign_in
    for client in opened:
        await client.close()


async def test_clerk_on_node_b_hears_node_a_and_sees_its_clerks_go_offline_when_it_dies(
    cluster: Cluster, clients: Any
) -> None:
    node_a, node_b = cluster.start_node(), cluster.start_node()
    company = cluster.cast.company_room_id
    wang = await clients(node_a, "wangfang")
    li = await clients(node_b, "lina")
    wang_stream = await open_stream(node_a.ws_url, cookie=wang.session_cookie, last_message_id=0)
    li_stream = await open_stream(node_b.ws_url, cookie=li.session_cookie, last_message_id=0)
    await wang_stream.next("ready")
    await li_stream.next("ready")
    wang_id = cluster.cast["wangfang"].id

    async def wang_online_on_b() -> bool:
        users = (await li.http.get("/api/v1/users")).json()["users"]
        return any(u["id"] == wang_id and u["online"] for u in users)

    await wait_for(wang_online_on_b, 5, "王芳 (node A) to show online on node B")

    sent = await wang.post_message(company, "B1E0 资源编码已更新", "node-a-0001")
    assert sent.status_code == 201
    heard = await messages_until(li_stream, 1, timeout=2)
    assert heard[0]["id"] == sent.json()["id"]
    assert heard[0]["branch"]["name"] == "城北营业厅"

    killed_at = time.monotonic()
    node_a.kill()
    while True:
        frame = await li_stream.next("presence.changed", timeout=60)
        if wang_id in frame["offline"]:
            break
    assert time.monotonic() - killed_at < 60
    assert not await wang_online_on_b()

    missed = [
        (await li.post_message(company, f"补发 {n}", f"node-b-{n:04d}")).json()["id"]
        for n in range(3)
    ]
    wang_on_b = await clients(node_b, "wangfang")
    back = await open_stream(
        node_b.ws_url, cookie=wang_on_b.session_cookie, last_message_id=heard[0]["id"]
    )
    caught_up = await messages_until(back, 3, timeout=5)
    ready = await back.next("ready")
    assert [m["id"] for m in caught_up] == missed
    assert ready["last_message_id"] == missed[-1]
    for stream in (li_stream, back, wang_stream):
        await stream.close()


@pytest.mark.parametrize("run", range(3))
async def test_reader_reconnecting_across_nodes_sees_concurrent_writers_exactly_once(
    cluster: Cluster, clients: Any, run: int
) -> None:
    nodes = [cluster.start_node(), cluster.start_node()]
    company = cluster.cast.company_room_id
    writers = [
        await clients(nodes[i % 2], name)
        for i, name in enumerate(["wangfang", "lina", "zhouqiang", "zhangwei"])
    ]
    reader = await clients(nodes[0], "zhaomin")
    per_writer = 60

    async def write(index: int, client: Client) -> list[int]:
        ids = []
        for n in range(per_writer):
            response = await client.post_message(
                company, f"w{index} #{n}", f"run{run}-w{index}-n{n:04d}"
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    async def read(total: int) -> list[int]:
        seen: list[int] = []
        last = 0
        hop = 0
        while len(seen) < total:
            node = nodes[hop % 2]
            hop += 1
            stream = await open_stream(
                node.ws_url, cookie=reader.session_cookie, last_message_id=last
            )
            try:
                for _ in range(25):
                    frame = await stream.next(timeout=10)
                    if frame["type"] == "message.posted":
                        seen.append(frame["message"]["id"])
                        last = max(last, frame["message"]["id"])
                    if len(seen) >= total:
                        break
            finally:
                await stream.close()
        return seen

    total = per_writer * len(writers)
    reading = asyncio.create_task(read(total))
    written = await asyncio.gather(*(write(i, c) for i, c in enumerate(writers)))
    seen = await asyncio.wait_for(reading, 60)
    all_written = sorted(i for ids in written for i in ids)
    assert len(set(all_written)) == total
    assert sorted(seen) == all_written, "each message exactly once"


async def test_messages_keep_flowing_while_redis_restarts(cluster: Cluster, clients: Any) -> None:
    node_a, node_b = cluster.start_node(), cluster.start_node()
    company = cluster.cast.company_room_id
    writer = await clients(node_a, "wangfang")
    listener = await clients(node_b, "lina")
    stream = await open_stream(node_b.ws_url, cookie=listener.session_cookie, last_message_id=0)
    await stream.next("ready")
    sent: list[int] = []

    async def post(n: int) -> None:
        response = await writer.post_message(company, f"第 {n} 条", f"redis-restart-{n:04d}")
        assert response.status_code == 201, response.text
        sent.append(response.json()["id"])

    for n in range(5):
        await post(n)
    cluster.redis.stop()
    for n in range(5, 15):
        await post(n)
        await asyncio.sleep(0.1)
    cluster.redis.start()
    await asyncio.sleep(2)
    for n in range(15, 20):
        await post(n)

    received: list[int] = []
    states: list[str] = []
    deadline = time.monotonic() + 20
    while len(received) < len(sent) and time.monotonic() < deadline:
        try:
            frame = await stream.next(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if frame["type"] == "message.posted":
            received.append(frame["message"]["id"])
        elif frame["type"] == "live":
            states.append(frame["state"])
    assert received == sent, "no message lost, none twice, in order"
    assert "degraded" in states
    health = (await listener.http.get("/healthz")).json()
    assert health["live"] == "ok"
    await stream.close()


async def test_logging_out_on_one_node_ends_the_session_on_the_other_at_once(
    cluster: Cluster, clients: Any
) -> None:
    node_a, node_b = cluster.start_node(), cluster.start_node()
    wang = await clients(node_a, "wangfang")
    same_browser_on_b = httpx.AsyncClient(
        base_url=node_b.url, cookies={"counterline_session": wang.session_cookie}
    )
    try:
        assert (await same_browser_on_b.get("/api/v1/session")).status_code == 200
        logged_out = await wang.http.delete(
            "/api/v1/session", headers={"X-CSRF-Token": wang.csrf_token}
        )
        assert logged_out.status_code in (200, 204)
        await wait_for(
            lambda: session_refused(same_browser_on_b), 1.0, "node B to forget the session"
        )
    finally:
        await same_browser_on_b.aclose()


async def session_refused(client: httpx.AsyncClient) -> bool:
    return (await client.get("/api/v1/session")).status_code == 401


async def test_clerk_moved_by_the_cli_leaves_her_old_room_on_every_node(
    cluster: Cluster, clients: Any
) -> None:
    """The CLI's events reach no node; the access-change feed reaches them all."""
    first, second = cluster.start_node(), cluster.start_node()
    wang = await clients(first, "wangfang")
    streams = [
        await open_stream(node.ws_url, cookie=wang.session_cookie) for node in (first, second)
    ]
    for stream in streams:
        await stream.next("ready")
    await run_cli(
        cluster.database_url, cluster.directory, "user", "move", "wangfang", "--branch", HUAQIAO
    )
    for stream in streams:
        left = await stream.next("room.left", timeout=5)
        assert left["room_id"] == cluster.cast.branch_room_ids[CHENGBEI]
        await stream.close()


async def test_reading_on_one_node_clears_the_count_in_her_tab_on_the_other(
    cluster: Cluster, clients: Any
) -> None:
    node_a, node_b = cluster.start_node(), cluster.start_node()
    wang = await clients(node_a, "wangfang")
    zhao_on_a, zhao_on_b = await clients(node_a, "zhaomin"), await clients(node_b, "zhaomin")
    company = cluster.cast.company_room_id
    tab = await open_stream(node_b.ws_url, cookie=zhao_on_b.session_cookie)
    try:
        await tab.next("ready")
        posted = await wang.post_message(company, "两个节点的未读", "nodes-read-1")
        assert posted.status_code == 201
        read = await zhao_on_a.http.post(
            f"/api/v1/rooms/{company}/read",
            json={"up_to": posted.json()["id"]},
            headers={"X-CSRF-Token": zhao_on_a.csrf_token},
        )
        assert read.status_code == 200 and read.json()["unread"] == 0
        told = await tab.next("room.read", timeout=5)
    finally:
        await tab.close()
    assert (told["room_id"], told["last_read_id"], told["unread"]) == (
        company,
        posted.json()["id"],
        0,
    )
