"""The garbage collector while a server runs (ops/collector.py, COUNTERLINE_GC_TUNING).

A real server (uvicorn in a thread of this process, the app's own lifespan) is started and
the interpreter's collector is read while it runs and after it stopped. The collector is
process-wide, so each test starts from and returns to Python's own settings.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.live import LiveServer

StartServer = Callable[..., LiveServer]


@pytest.fixture(autouse=True)
def untuned_collector() -> Iterator[tuple[int, int, int]]:
    """Python's collector as a fresh process has it, before and after each test."""
    gc.unfreeze()
    before = gc.get_threshold()
    yield before
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_started_server_freezes_what_start_up_made_and_collects_less_often(
    start_server: StartServer, untuned_collector: tuple[int, int, int]
) -> None:
    server = start_server(gc_threshold=12_345)
    assert gc.get_threshold() == (12_345, *untuned_collector[1:])
    assert gc.get_freeze_count() > 10_000  # the imported app and its caches, at least
    server.stop()
    assert gc.get_threshold() == untuned_collector
    assert gc.get_freeze_count() == 0


def test_tuning_turned_off_leaves_the_collector_as_python_has_it(
    start_server: StartServer, untuned_collector: tuple[int, int, int]
) -> None:
    start_server(gc_tuning=False, gc_threshold=12_345)
    assert gc.get_threshold() == untuned_collector
    assert gc.get_freeze_count() == 0


def test_what_survives_a_full_collection_is_frozen_too(start_server: StartServer) -> None:
    start_server()
    frozen = gc.get_freeze_count()
    survivors = [[n] for n in range(50_000)]  # tracked containers, alive through the collection
    gc.collect()
    assert wait_until(lambda: gc.get_freeze_count() >= frozen + 50_000)
    assert len(survivors) == 50_000


def test_without_refreezing_a_full_collection_freezes_nothing_more(
    start_server: StartServer,
) -> None:
    start_server(gc_refreeze=False)
    frozen = gc.get_freeze_count()
    survivors = [[n] for n in range(50_000)]
    gc.collect()
    assert not wait_until(lambda: gc.get_freeze_count() > frozen, seconds=0.5)
    assert len(survivors) == 50_000


def test_the_last_of_two_servers_in_one_process_restores_the_collector(
    start_server: StartServer, untuned_collector: tuple[int, int, int]
) -> None:
    first = start_server(gc_threshold=20_000)
    second = start_server(gc_threshold=20_000)
    first.stop()
    assert gc.get_threshold()[0] == 20_000 and gc.get_freeze_count() > 0
    second.stop()
    assert gc.get_threshold() == untuned_collector
    assert gc.get_freeze_count() == 0


def test_metrics_show_the_collector_pauses_and_what_is_frozen(start_server: StartServer) -> None:
    server = start_server()

    def reading() -> dict[str, float]:
        text = httpx.get(server.url + "/metrics").text
        pairs = (
            line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("counterline_gc")
        )
        return {name: float(value) for name, value in pairs}

    before = reading()
    gc.collect()
    after = reading()
    full = 'counterline_gc_pause_seconds_count{generation="2"}'
    assert after[full] >= before[full] + 1
    assert after['counterline_gc_pause_seconds_sum{generation="2"}'] > 0
    assert after['counterline_gc_cpu_seconds_sum{generation="2"}'] > 0
    assert after["counterline_gc_longest_pause_seconds"] > 0
    assert after["counterline_gc_frozen_objects"] > 10_000  # start-up, then the survivors
