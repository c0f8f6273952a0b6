"""The benchmark scripts' short modes run, print their figures and lose nothing.

All seven start at once (each as its own process tree: servers, load generators), so the
whole module takes about as long as the slowest one. Their timings mean nothing here;
what is checked is that each exits 0, prints its figures, and reports 0 lost and
0 duplicated deliveries and a clean store check where it posts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKEND, POSTGRES_URL
from tests.support.databases import PostgresDatabases

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("fanout", "saturation", "one_room", "capacity", "http_api", "history", "ingest")
TIMEOUT = 110


@dataclass
class Run:
    process: subprocess.Popen[str]
    output: str = ""

    def finish(self) -> Run:
        if self.process.returncode is None:
            try:
                self.output, _ = self.process.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.output, _ = self.process.communicate()
        return self

    def result(self) -> dict[str, Any]:
        lines = [line for line in self.output.splitlines() if line.startswith("RESULT ")]
        assert len(lines) == 1, self.output
        return json.loads(lines[0].split(" ", 2)[2])


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Run]]:
    started = {
        name: Run(
            subprocess.Popen(
                [sys.executable, "-m", f"bench.{name}", "--short", "--no-pin"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        )
        for name in SCRIPTS
    }
    yield started
    for run in started.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.communicate()


def finished(runs: dict[str, Run], name: str) -> Run:
    run = runs[name].finish()
    assert run.process.returncode == 0, run.output
    assert "command: .venv/bin/python -m bench." in run.output
    assert "machine: " in run.output
    return run


def assert_nothing_lost(figures: dict[str, Any]) -> None:
    assert figures["delivered"] == figures["expected"] > 0
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["unexpected"] == 0
    assert figures["failed_posts"] == 0


def test_fanout_short_run_delivers_every_message_once_on_both_servers(runs) -> None:
    run = finished(runs, "fanout")
    result = run.result()
    for kind in ("counterline", "baseline"):
        assert_nothing_lost(result[kind])
        assert result[kind]["latency"]["p99_ms"] > 0
        assert result[kind]["server_cores"] > 0
    assert result["counterline"]["store_ok"] is True
    assert "0 lost / 0 duplicated / 0 unexpected" in run.output
    assert "0 missing, 0 duplicated, 0 extra, 0 mismatched" in run.output


def test_saturation_short_run_reports_a_sustained_rate_for_both_servers(runs) -> None:
    run = finished(runs, "saturation")
    result = run.result()
    for kind in ("counterline", "baseline"):
        steps = result[kind]["steps"]
        assert steps, run.output
        assert all(step["lost"] == 0 and step["duplicated"] == 0 for step in steps)
        assert result[kind]["sustained_rate"] >= 0
    assert "highest sustained rate" in run.output


def test_one_room_short_run_measures_both_rates_without_loss(runs) -> None:
    run = finished(runs, "one_room")
    result = run.result()
    for kind in ("counterline", "baseline"):
        for rate in ("10", "250"):
            assert_nothing_lost(result[kind][rate])
    assert "0 lost / 0 duplicated" in run.output
    assert "target <= 15 ms" in run.output


def test_capacity_short_run_holds_every_client_and_reaches_big_rooms(runs) -> None:
    run = finished(runs, "capacity")
    result = run.result()
    for kind in ("counterline", "baseline"):
        figures = result[kind]
        assert figures["still_open"] == figures["clients"] == 100
        assert figures["kib_per_connection"] > 0
        for room in ("50-member room", "100-member room"):
            assert_nothing_lost(figures[room])
    assert "KiB per connection" in run.output
    assert "0 lost / 0 duplicated" in run.output


def test_http_short_run_answers_every_endpoint_and_stores_every_acknowledged_post(runs) -> None:
    run = finished(runs, "http_api")
    result = run.result()
    for endpoint in ("hello", "room page", "messages API", "room list", "post message"):
        figures = result[endpoint]
        assert figures["requests"] > 0
        assert set(figures["statuses"]) <= {"200", "201"}, figures["statuses"]
    store = result["store_check"]
    assert store["acknowledged"] == result["post message"]["requests"] > 0
    assert store["missing"] == store["duplicated"] == store["extra"] == store["mismatched"] == 0
    assert "0 missing, 0 duplicated, 0 extra" in run.output


def test_history_short_run_pages_fifty_messages_on_both_databases(runs) -> None:
    run = finished(runs, "history")
    result = run.result()
    for kind in ("counterline", "baseline"):
        for room in ("company room", "branch room"):
            figures = result[kind][room]
            assert figures["errors"] == 0
            assert figures["messages_per_page"] > 40
            assert figures["p99_ms"] > 0


def test_ingest_short_run_commits_in_groups_and_stores_every_acknowledged_post(runs) -> None:
    run = finished(runs, "ingest")
    result = run.result()
    for kind in ("counterline", "baseline"):
        figures = result[kind]
        assert figures["acknowledged"] > 0
        assert figures["store_ok"] is True
    assert result["baseline"]["posts_per_commit"] == 1.0
    assert result["counterline"]["posts_per_commit"] > 1.0
    assert "0 missing, 0 duplicated, 0 extra, 0 mismatched" in run.output


def test_one_room_on_two_nodes_measures_what_crossing_nodes_adds(
    postgres: PostgresDatabases, redis_url: str
) -> None:
    if BACKEND != "postgresql":
        pytest.skip("multi-node bench runs in the PostgreSQL pass")
    command = [
        *("-m", "bench.one_room", "--short", "--no-pin", "--targets", "counterline"),
        *("--nodes", "2", "--database-url", POSTGRES_URL, "--redis-url", redis_url),
    ]
    run = Run(
        subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    ).finish()
    assert run.process.returncode == 0, run.output
    result = run.result()
    for kind in ("counterline", "counterline, one node"):
        for rate in ("10", "125", "250"):
            assert_nothing_lost(result[kind][rate])
    assert result["counterline"]["10"]["cross_node_latency"]["count"] > 0
    assert "crossing nodes adds (other node vs one node alone)" in run.output
