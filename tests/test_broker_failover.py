"""The Redis broker on its own: hubs of several nodes on one private redis-server, and what
happens to live updates while Redis is away and when it comes back. No app server: each
node is a real Hub with one tab (a Connection whose frames are collected) and a RedisBroker;
the "database" the poller reads is a list of committed messages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from counterline.messages.events import MessagePosted
from counterline.realtime.broker import RedisBroker
from counterline.realtime.events import Envelope
from counterline.realtime.hub import Connection, Hub
from tests.support.nodes import RedisServer
from tests.support.waiting import wait_for

pytestmark = pytest.mark.redis

ROOM = 7


def posted(message_id: int, body: str) -> MessagePosted:
    return MessagePosted(room_id=ROOM, message={"id": message_id, "body": body})


ROOM_STREAM = posted(0, "").stream


class Tab:
    """A browser tab as its hub sees it: every frame sent to it is kept, in order."""

    def __init__(self, hub: Hub, streams: list[str]) -> None:
        self.texts: list[str] = []
        self.connection = Connection(self._receive, 1, staff=False, session_id=None)
        hub.attach(self.connection, streams)
        self._drain = asyncio.create_task(self.connection.drain())

    async def _receive(self, text: str) -> None:
        self.texts.append(text)

    @property
    def frames(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.texts]

    def message_ids(self) -> list[int]:
        return [f["message"]["id"] for f in self.frames if f["type"] == "message.posted"]

    def live_states(self) -> list[str]:
        return [f["state"] for f in self.frames if f["type"] == "live"]

    async def close(self) -> None:
        self.connection.close(1000)
        await self._drain


@dataclass
class Store:
    """The database, the source of truth: messages committed so far, in id order."""

    committed: list[tuple[int, Envelope]] = field(default_factory=list)
    polled: list[int] = field(default_factory=list)

    def commit(self, body: str) -> Envelope:
        message_id = len(self.committed) + 1
        self.committed.append((message_id, posted(message_id, body).envelope()))
        return self.committed[-1][1]

    async def fetch_since(self, after: int) -> list[Envelope]:
        self.polled.append(after)
        await asyncio.sleep(0)  # a query
        return [envelope for message_id, envelope in self.committed if message_id > after]


@dataclass
class BrokerNode:
    hub: Hub
    broker: RedisBroker
    tab: Tab


MakeNode = Callable[..., Any]


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
async def make_node(private_redis: RedisServer, store: Store) -> AsyncIterator[MakeNode]:
    """``await make_node()``: a node (hub, started broker, one tab in the room); with
    ``polls=False`` its broker has no database to poll."""
    nodes: list[BrokerNode] = []

    async def make(polls: bool = True) -> BrokerNode:
        hub = Hub()
        broker = RedisBroker(hub, private_redis.url, store.fetch_since if polls else None)
        await broker.start()
        node = BrokerNode(hub, broker, Tab(hub, [ROOM_STREAM]))
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        await node.broker.stop()
        await node.tab.close()


async def until_degraded(*nodes: BrokerNode) -> None:
    await wait_for(lambda: not any(node.broker.healthy for node in nodes), 10, "Redis missed")


async def until_healthy(*nodes: BrokerNode) -> None:
    await wait_for(lambda: all(node.broker.healthy for node in nodes), 15, "Redis back")


async def test_an_event_published_on_one_node_reaches_the_tabs_of_every_node_once(
    make_node: MakeNode, store: Store
) -> None:
    here, there = await make_node(), await make_node()
    assert here.broker.healthy and there.broker.healthy
    await here.broker.publish([store.commit("窗口通知")])
    await wait_for(lambda: there.tab.message_ids() == [1], 5, "the other node's tab")
    await wait_for(lambda: here.tab.message_ids() == [1], 5, "the posting node's own tab")
    await asyncio.sleep(0.2)
    assert here.tab.message_ids() == there.tab.message_ids() == [1]
    assert here.tab.live_states() == there.tab.live_states() == []
    assert store.polled == []  # Redis carried it: nobody polled the database


async def test_when_redis_stops_every_node_turns_degraded_and_tells_its_tabs(
    make_node: MakeNode, private_redis: RedisServer
) -> None:
    here, there = await make_node(), await make_node()
    private_redis.stop()
    await until_degraded(here, there)
    await wait_for(lambda: here.tab.live_states() == ["degraded"], 5, "the tab to hear it")
    assert there.tab.live_states() == ["degraded"]


async def test_while_redis_is_away_a_post_reaches_its_own_node_at_once_and_others_by_polling(
    make_node: MakeNode, private_redis: RedisServer, store: Store
) -> None:
    here, there = await make_node(), await make_node()
    private_redis.stop()
    await until_degraded(here, there)
    await here.broker.publish([store.commit("断线时的通知")])
    await asyncio.sleep(0)
    assert here.tab.message_ids() == [1]  # delivered locally, not waiting for Redis
    await wait_for(lambda: there.tab.message_ids() == [1], 5, "the poller of the other node")
    polls = len(store.polled)
    await wait_for(lambda: len(store.polled) > polls, 5, "the next poll")
    assert store.polled[-1] == 1  # it reads on after the last message it delivered


async def test_a_publish_that_fails_marks_the_broker_degraded_and_still_delivers_locally(
    make_node: MakeNode, private_redis: RedisServer, store: Store
) -> None:
    here = await make_node()
    private_redis.stop()
    # Publish at once, before the subscription has noticed that Redis is gone.
    await here.broker.publish([store.commit("正好断线")])
    assert not here.broker.healthy
    await asyncio.sleep(0)
    assert here.tab.message_ids() == [1]


async def test_when_redis_returns_held_events_reach_every_node_and_no_tab_gets_one_twice(
    make_node: MakeNode, private_redis: RedisServer, store: Store
) -> None:
    here, there = await make_node(), await make_node()
    deaf = await make_node(polls=False)  # hears only what comes through Redis
    private_redis.stop()
    await until_degraded(here, there, deaf)
    await here.broker.publish([store.commit("断线时的通知")])
    await wait_for(lambda: there.tab.message_ids() == [1], 5, "the other node's poller")
    assert deaf.tab.message_ids() == []

    private_redis.start()  # the same port
    await until_healthy(here, there, deaf)
    await wait_for(lambda: deaf.tab.message_ids() == [1], 5, "the held event, published")
    await here.broker.publish([store.commit("恢复后的通知")])
    for node in (here, there, deaf):
        await wait_for(lambda node=node: node.tab.message_ids() == [1, 2], 5, "the next one")
    await asyncio.sleep(0.3)
    for node in (here, there, deaf):
        assert node.tab.message_ids() == [1, 2]
        assert node.tab.live_states() == ["degraded", "ok"]
