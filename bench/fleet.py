"""A fleet of WebSocket clients spread over several load-generator processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import ROOT, pinned


@dataclass
class Receipts:
    """What every connection received: sequence numbers and arrival times, by connection."""

    seqs: list[list[int]] = field(default_factory=list)
    times: list[list[float]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


class Fleet:
    """``connections`` are (token, ws base URL) pairs; index i is connection i everywhere."""

    def __init__(
        self,
        run_dir: Path,
        connections: Sequence[tuple[str, str]],
        *,
        processes: int,
        cores: str | None,
        compression: str = "deflate",
        reader: str = "lean",
        heartbeat: float = 0,
        name: str = "fleet",
    ) -> None:
        self.run_dir = run_dir
        self.connections = list(connections)
        self.count = max(1, min(processes, len(self.connections)))
        self.cores = cores
        self.compression = compression
        self.reader = reader  # "lean" (bench.leanstream) or "websockets"
        self.heartbeat = heartbeat
        self.name = name
        self.slices: list[range] = []
        self.processes: list[subprocess.Popen[str]] = []
        self.failed: set[int] = set()

    def start(self, timeout: float = 600) -> dict[str, Any]:
        """Open every connection; returns connected/failed counts and the time it took."""
        started = time.monotonic()
        size = -(-len(self.connections) // self.count)
        for number in range(self.count):
            part = range(number * size, min(len(self.connections), (number + 1) * size))
            config = {
                "connections": [self.connections[i] for i in part],
                "compression": self.compression,
                "reader": self.reader,
                "heartbeat": self.heartbeat,
                "results": str(self.run_dir / f"{self.name}-{number}.json"),
            }
            path = self.run_dir / f"{self.name}-{number}.config.json"
            path.write_text(json.dumps(config))
            command = [sys.executable, "-m", "bench.wsworker", str(path)]
            self.slices.append(part)
            self.processes.append(
                subprocess.Popen(
                    pinned(command, self.cores),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
            )
        ready = [self._read(process, "ready", timeout) for process in self.processes]
        self.failed = {
            part[local]
            for part, r in zip(self.slices, ready, strict=True)
            for local in r["failed_indices"]
        }
        return {
            "connected": sum(r["connected"] for r in ready),
            "failed": sum(r["failed"] for r in ready),
            "seconds": round(time.monotonic() - started, 2),
            "errors": [e for r in ready for e in r["errors"]][:3],
        }

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    @staticmethod
    def _read(process: subprocess.Popen[str], event: str, timeout: float) -> dict[str, Any]:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"load generator {process.pid} exited (wanted {event})")
            if line.startswith("{"):
                data = json.loads(line)
                if data.get("event") == event:
                    return data
        raise RuntimeError(f"load generator {process.pid}: no {event} in {timeout} s")

    def _ask(self, command: str, event: str) -> list[dict[str, Any]]:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(command + "\n")
            process.stdin.flush()
        return [self._read(process, event, 120) for process in self.processes]

    def stats(self) -> dict[str, Any]:
        totals: dict[str, Any] = {"close_codes": {}, "errors": []}
        for part in self._ask("stats", "stats"):
            for key, value in part.items():
                if key == "close_codes":
                    for code, n in value.items():
                        totals["close_codes"][code] = totals["close_codes"].get(code, 0) + n
                elif key == "errors":
                    totals["errors"].extend(value)
                elif isinstance(value, int):
                    totals[key] = totals.get(key, 0) + value
        return totals

    def wait_for(self, messages: int, timeout: float, quiet: float = 1.0) -> dict[str, Any]:
        """Wait until ``messages`` message frames arrived in all, or nothing came for ``quiet``
        seconds after ``timeout``; returns the last stats."""
        deadline = time.monotonic() + timeout
        last, last_change = -1, time.monotonic()
        while True:
            stats = self.stats()
            if stats["messages"] >= messages:
                return stats
            if stats["messages"] != last:
                last, last_change = stats["messages"], time.monotonic()
            elif time.monotonic() > deadline and time.monotonic() - last_change > quiet:
                return stats
            time.sleep(0.1)

    def settle(self, quiet: float = 1.0, timeout: float = 120) -> None:
        """Wait until no frames of any kind arrived for ``quiet`` seconds (connect storm over)."""
        deadline = time.monotonic() + timeout
        last: tuple[int, ...] = ()
        since = time.monotonic()
        while time.monotonic() < deadline:
            stats = self.stats()
            current = (stats["presence"], stats["other"], stats["messages"])
            if current != last:
                last, since = current, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.2)

    def collect(self, into: Receipts | None = None) -> Receipts:
        """Receipts since the last collect, appended to ``into`` (or a new Receipts)."""
        return self._gather("save", into)

    def stop(self, into: Receipts | None = None) -> Receipts:
        receipts = self._gather("stop", into)
        for process in self.processes:
            process.wait(timeout=60)
        return receipts

    def _gather(self, command: str, into: Receipts | None) -> Receipts:
        self._ask(command, "saved")
        receipts = into or Receipts(
            seqs=[[] for _ in self.connections], times=[[] for _ in self.connections]
        )
        stats: dict[str, Any] = {"close_codes": {}, "errors": []}
        for number, part in enumerate(self.slices):
            data = json.loads((self.run_dir / f"{self.name}-{number}.json").read_text())
            for local, index in enumerate(part):
                receipts.seqs[index].extend(data["seqs"][local])
                receipts.times[index].extend(data["times"][local])
            for key, value in data.items():
                if key in ("seqs", "times"):
                    continue
                if key == "close_codes":
                    for code, n in value.items():
                        stats["close_codes"][code] = stats["close_codes"].get(code, 0) + n
                elif key == "errors":
                    stats["errors"].extend(value)
                else:
                    stats[key] = stats.get(key, 0) + value
        receipts.stats = stats
        return receipts

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
