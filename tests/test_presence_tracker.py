"""The presence tracker on its own: tabs counted per user, a grace period before leaving,
changes applied in order a batch at a time. No server; a LocalRegistry holds who is online."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest

from counterline.presence.registry import LocalRegistry
from counterline.presence.tracker import Change, PresenceTracker
from tests.support.waiting import wait_for

GRACE = 0.3
PACE = 0.05
WANG, LI, ZHOU = 11, 12, 13


class Recorder:
    """``on_change`` as the services wire it: apply the batch to the registry, and remember
    each batch as it came."""

    def __init__(self, registry: LocalRegistry) -> None:
        self.registry = registry
        self.batches: list[list[Change]] = []
        self.failures_to_come = 0  # the next this many batches fail (the database is away)
        self.failed: list[list[Change]] = []

    async def __call__(self, changes: list[Change]) -> None:
        if self.failures_to_come:
            self.failures_to_come -= 1
            self.failed.append(list(changes))
            raise RuntimeError("database away")
        self.batches.append(list(changes))
        for user_id, online in changes:
            await (self.registry.arrive(user_id) if online else self.registry.leave(user_id))

    @property
    def changes(self) -> list[Change]:
        return [change for batch in self.batches for change in batch]

    async def next_batch(self, timeout: float = 2) -> list[Change]:
        seen = len(self.batches)
        await wait_for(lambda: len(self.batches) > seen, timeout, "a batch of presence changes")
        return self.batches[seen]


Track = Callable[..., tuple[PresenceTracker, Recorder]]


@pytest.fixture
async def track() -> AsyncIterator[Track]:
    """``tracker, recorder = track(grace=…, pace=…)``; every tracker is stopped afterwards."""
    made: list[PresenceTracker] = []

    def make(grace: float = GRACE, pace: float = PACE) -> tuple[PresenceTracker, Recorder]:
        registry = LocalRegistry()
        recorder = Recorder(registry)
        tracker = PresenceTracker(recorder, grace, registry, pace=lambda: pace)
        made.append(tracker)
        return tracker, recorder

    yield make
    for tracker in made:
        await asyncio.wait_for(tracker.stop(), 5)


async def wang_online(track: Track, **settings: float) -> tuple[PresenceTracker, Recorder]:
    """A tracker on which 王芳 has opened a tab and been announced."""
    tracker, recorder = track(**settings)
    tracker.tab_opened(WANG)
    assert await recorder.next_batch() == [(WANG, True)]
    return tracker, recorder


async def test_a_first_tab_makes_the_user_arrive_once(track: Track) -> None:
    tracker, recorder = track()
    tracker.tab_opened(WANG)
    assert await recorder.next_batch() == [(WANG, True)]
    await asyncio.sleep(3 * PACE)
    assert recorder.changes == [(WANG, True)]
    assert tracker.is_online(WANG)
    assert tracker.online_user_ids() == {WANG}


async def test_a_second_tab_is_not_announced_and_closing_it_keeps_the_user_online(
    track: Track,
) -> None:
    tracker, recorder = await wang_online(track)
    tracker.tab_opened(WANG)
    tracker.tab_closed(WANG)
    await asyncio.sleep(GRACE + 3 * PACE)
    assert recorder.changes == [(WANG, True)]
    assert tracker.is_online(WANG)


async def test_closing_the_last_tab_announces_leaving_only_after_the_grace_period(
    track: Track,
) -> None:
    tracker, recorder = await wang_online(track)
    tracker.tab_closed(WANG)
    await asyncio.sleep(GRACE / 2)
    assert recorder.changes == [(WANG, True)]
    assert tracker.is_online(WANG)
    assert await recorder.next_batch(timeout=GRACE + 1) == [(WANG, False)]
    assert not tracker.is_online(WANG)


async def test_a_tab_reopened_within_the_grace_period_cancels_leaving_and_arriving(
    track: Track,
) -> None:
    tracker, recorder = await wang_online(track)
    tracker.tab_closed(WANG)
    await asyncio.sleep(GRACE / 3)
    tracker.tab_opened(WANG)  # a page reload
    await asyncio.sleep(GRACE + 3 * PACE)
    assert recorder.changes == [(WANG, True)]
    assert tracker.is_online(WANG)
    tracker.tab_closed(WANG)  # the reopened tab is counted: its close starts a grace again
    assert await recorder.next_batch(timeout=GRACE + 1) == [(WANG, False)]


async def test_closing_a_reopened_tab_waits_a_whole_grace_period_again(track: Track) -> None:
    tracker, recorder = await wang_online(track)
    tracker.tab_closed(WANG)
    await asyncio.sleep(GRACE / 2)
    tracker.tab_opened(WANG)
    tracker.tab_closed(WANG)  # the first grace period would end in GRACE / 2
    await asyncio.sleep(GRACE * 3 / 4)
    assert recorder.changes == [(WANG, True)]
    assert await recorder.next_batch(timeout=GRACE + 1) == [(WANG, False)]


async def test_a_tab_closed_immediately_skips_the_grace_period(track: Track) -> None:
    tracker, recorder = await wang_online(track, grace=60)
    tracker.tab_closed(WANG, immediately=True)  # a logout
    assert await recorder.next_batch() == [(WANG, False)]


async def test_changes_made_while_a_batch_is_applied_arrive_together_in_order(
    track: Track,
) -> None:
    tracker, recorder = await wang_online(track, pace=0.3)
    # The worker now waits out its pace: these pile up and go as one batch, in order.
    tracker.tab_opened(LI)
    tracker.tab_opened(ZHOU)
    tracker.tab_closed(LI, immediately=True)
    tracker.tab_opened(LI)
    await asyncio.sleep(0.1)
    assert recorder.batches == [[(WANG, True)]]  # held back by the pace
    assert await recorder.next_batch() == [(LI, True), (ZHOU, True), (LI, False), (LI, True)]
    assert tracker.online_user_ids() == {WANG, LI, ZHOU}


async def test_a_batch_that_fails_to_apply_does_not_stop_later_ones(
    track: Track, caplog: pytest.LogCaptureFixture
) -> None:
    tracker, recorder = track()
    recorder.failures_to_come = 1
    tracker.tab_opened(WANG)
    await wait_for(lambda: recorder.failed == [[(WANG, True)]], 2, "the failing batch")
    tracker.tab_opened(LI)
    assert await recorder.next_batch() == [(LI, True)]
    assert "could not record presence changes" in caplog.text


async def test_stopping_applies_the_changes_already_made(track: Track) -> None:
    tracker, recorder = await wang_online(track, pace=1)
    tracker.tab_opened(LI)  # waits for the pace
    assert recorder.changes == [(WANG, True)]
    await asyncio.wait_for(tracker.stop(), 5)
    assert recorder.changes == [(WANG, True), (LI, True)]


async def test_stopping_forgets_users_still_in_their_grace_period(track: Track) -> None:
    tracker, recorder = await wang_online(track)
    tracker.tab_closed(WANG)
    await tracker.stop()
    await asyncio.sleep(GRACE + 3 * PACE)
    assert recorder.changes == [(WANG, True)]
    await asyncio.wait_for(tracker.stop(), 1)  # nothing was left pending


async def test_the_online_list_follows_tabs_opening_and_closing(
    track: Track,
) -> None:
    tracker, _ = track()
    assert json.loads(tracker.online_ids_json(including=WANG)) == [WANG]
    tracker.tab_opened(ZHOU)
    tracker.tab_opened(LI)
    await wait_for(lambda: tracker.online_user_ids() == {LI, ZHOU}, 2, "李娜 and 周强 online")
    assert sorted(json.loads(tracker.online_ids_json(including=WANG))) == [WANG, LI, ZHOU]
    assert sorted(json.loads(tracker.online_ids_json(including=LI))) == [LI, ZHOU]
    tracker.tab_closed(ZHOU, immediately=True)
    await wait_for(lambda: tracker.online_user_ids() == {LI}, 2, "周强 offline")
    assert sorted(json.loads(tracker.online_ids_json(including=WANG))) == [WANG, LI]
    assert json.loads(tracker.online_ids_json(including=LI)) == [LI]


async def test_a_login_storm_is_announced_in_a_single_batch() -> None:
    batches: list[list[tuple[int, bool]]] = []

    async def record(changes: list[tuple[int, bool]]) -> None:
        batches.append(changes)

    tracker = PresenceTracker(record, grace_seconds=0, registry=LocalRegistry())
    for user_id in range(1, 501):
        tracker.tab_opened(user_id)
    tracker.tab_closed(7)
    await tracker.stop()
    assert batches == [[*((user_id, True) for user_id in range(1, 501)), (7, False)]]


async def test_the_online_list_sent_on_connect_always_includes_the_newcomer() -> None:
    async def ignore(changes: list[tuple[int, bool]]) -> None:
        return None

    registry = LocalRegistry()
    tracker = PresenceTracker(ignore, grace_seconds=0, registry=registry)
    assert json.loads(tracker.online_ids_json(including=9)) == [9]
    for user_id in (3, 1, 2):
        await registry.arrive(user_id)
    assert json.loads(tracker.online_ids_json(including=2)) == [1, 2, 3]
    assert sorted(json.loads(tracker.online_ids_json(including=7))) == [1, 2, 3, 7]
    await registry.leave(3)
    assert sorted(json.loads(tracker.online_ids_json(including=7))) == [1, 2, 7]
