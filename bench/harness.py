"""What every benchmark script shares: servers as subprocesses, CPU/RSS readings, pinning,
percentiles and the report format.

Server and load generator are pinned to different cores (``taskset``) when the machine has
at least two: the server gets core 0, the load generator processes the others.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- command line


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every script takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--short", action="store_true", help="a few seconds, small numbers (CI)")
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL admin URL (postgresql+asyncpg://...); default: a SQLite file per run",
    )
    parser.add_argument(
        "--redis-url", default="", help="Redis URL for the servers (needed with --nodes > 1)"
    )
    parser.add_argument(
        "--nodes", type=int, default=1, help="Counterline server processes (needs Redis if > 1)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run directory (logs, databases)"
    )
    parser.add_argument(
        "--app",
        default="",
        help="serve this ASGI factory (module:function) with uvicorn instead of "
        "`counterline serve`, e.g. counterline.asgi:build or an experiment's wrapper",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the Counterline server under py-spy; the profile lands in the run directory",
    )
    return parser


def command_line() -> str:
    return " ".join(shlex.quote(part) for part in [".venv/bin/python", "-m", *_module_argv()])


def _module_argv() -> list[str]:
    main = sys.modules["__main__"]
    name = getattr(main.__spec__, "name", None) if main.__spec__ else None
    return [name or sys.argv[0], *sys.argv[1:]]


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) // 1024
    return (
        f"{os.cpu_count()} cores ({model}), {memory / 1024:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


# ---------------------------------------------------------------- cores


def can_pin(args: argparse.Namespace) -> bool:
    return not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def server_cores(args: argparse.Namespace, node: int = 0) -> str | None:
    """The core(s) for server process ``node``: 0 for a single server, else one each (or
    all on core 0 with ``args.nodes_on_one_core``, as bench.scaleout measures them)."""
    if not can_pin(args):
        return None
    count = os.cpu_count() or 1
    if args.nodes > 1 and not nodes_on_one_core(args):
        return str(node % count)
    return "0"


def nodes_on_one_core(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "nodes_on_one_core", False))


def generator_cores(args: argparse.Namespace) -> str | None:
    if not can_pin(args) or (args.nodes > 1 and not nodes_on_one_core(args)):
        return None
    last = (os.cpu_count() or 2) - 1
    return "1" if last == 1 else f"1-{last}"


def pin_self(cores: str | None) -> None:
    if cores is None:
        return
    first, _, last = cores.partition("-")
    os.sched_setaffinity(0, set(range(int(first), int(last or first) + 1)))


def pinned(command: list[str], cores: str | None) -> list[str]:
    return ["taskset", "-c", cores, *command] if cores else command


# ---------------------------------------------------------------- /proc readings


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    tree = _children()
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(tree.get(current, ()))
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds used so far by these processes (live ones)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
        except OSError:
            continue
    return total


class Meter:
    """CPU time and RSS of some processes over a measured window (peak RSS sampled)."""

    def __init__(self, pids: Sequence[int], interval: float = 0.25) -> None:
        self.pids = list(pids)
        self.interval = interval
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cpu = 0.0
        self.wall = 0.0
        self.rss = 0

    def __enter__(self) -> Meter:
        self._cpu0 = cpu_seconds(self.pids)
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_rss = max(self.peak_rss, rss_bytes(self.pids))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.cpu = cpu_seconds(self.pids) - self._cpu0
        self.wall = time.monotonic() - self._t0
        self.rss = rss_bytes(self.pids)
        self.peak_rss = max(self.peak_rss, self.rss)

    @property
    def cores(self) -> float:
        """Average number of cores busy (1.0 = one core all the time)."""
        return self.cpu / self.wall if self.wall else 0.0


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS


class MachineMeter:
    """How busy the whole machine was: other people's work disturbs latency figures."""

    def __enter__(self) -> MachineMeter:
        self._busy0, self._t0 = machine_busy_seconds(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.monotonic() - self._t0
        self.cores = (machine_busy_seconds() - self._busy0) / self.wall if self.wall else 0.0

    def others(self, *meters: Meter) -> float:
        """Cores used by processes outside the benchmark."""
        return max(0.0, self.cores - sum(meter.cores for meter in meters))


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A server subprocess on a local port."""

    name: str
    command: list[str]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def pids(self) -> list[int]:
        """The server's own processes (taskset execs in place; workers are children)."""
        return process_tree(self.pid)

    def start(self, timeout: float = 60) -> Server:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                cwd=ROOT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                    if response.status < 500:
                        return self
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def console_script(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed (pip install -e . in the venv)")
    return found


def counterline_server(
    run_dir: Path,
    database_url: str,
    *,
    redis_url: str = "",
    cores: str | None = None,
    name: str = "counterline",
    env: dict[str, str] | None = None,
    app: str = "",
    profile: bool = False,
) -> Server:
    """``counterline serve`` as a real subprocess, the way an operator starts it (or, with
    ``app``, uvicorn serving that factory with the same options)."""
    port = free_port()
    data_dir = run_dir / name
    data_dir.mkdir(parents=True, exist_ok=True)
    if app:
        command = [console_script("uvicorn"), "--factory", app, "--host", "127.0.0.1"]
        command += ["--port", str(port), "--log-level", "info", "--no-proxy-headers"]
    else:
        command = [console_script("counterline"), "serve", "--data-dir", str(data_dir)]
        command += ["--port", str(port)]
    if profile:
        output = run_dir / f"{name}.pyspy.txt"
        command = [
            console_script("py-spy"),
            "record",
            "-f",
            "raw",
            "-o",
            str(output),
            "--",
            *command,
        ]
    settings = {
        "COUNTERLINE_DATA_DIR": str(data_dir),
        "COUNTERLINE_DATABASE_URL": database_url,
        "COUNTERLINE_REDIS_URL": redis_url,
        **(env or {}),
    }
    return Server(
        name, pinned(command, cores), port, run_dir / f"{name}.log", settings, "/login"
    ).start()


def python_server(
    run_dir: Path,
    name: str,
    module: str,
    args: list[str],
    *,
    cores: str | None = None,
    ready_path: str = "/",
) -> Server:
    port = free_port()
    command = [sys.executable, "-m", module, "--port", str(port), *args]
    log = run_dir / f"{name}.log"
    return Server(name, pinned(command, cores), port, log, ready_path=ready_path).start()


def hello_server(run_dir: Path, *, cores: str | None = None) -> Server:
    """A bare Starlette "hello" app under uvicorn, started like ``counterline serve``."""
    port = free_port()
    command = [
        console_script("uvicorn"),
        "bench.hello:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
        "--no-proxy-headers",
    ]
    return Server("hello", pinned(command, cores), port, run_dir / "hello.log").start()


# ---------------------------------------------------------------- run directory


@contextlib.contextmanager
def run_directory(args: argparse.Namespace, prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"clbench-{prefix}-"))
    try:
        yield path
    finally:
        if args.keep:
            print(f"run directory kept: {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def multi_node_available(args: argparse.Namespace) -> str | None:
    """Why multi-node mode cannot run here, or None when it can."""
    if args.nodes <= 1:
        return None
    if not args.redis_url:
        return "--nodes > 1 needs --redis-url (the nodes share live events through Redis)"
    if not args.database_url.startswith("postgresql"):
        return "--nodes > 1 needs --database-url postgresql+asyncpg://... (a shared database)"
    help_text = subprocess.run(
        [console_script("counterline"), "serve", "--help"], capture_output=True, text=True
    ).stdout
    if "--workers" not in help_text:
        return "this Counterline has no `serve --workers`: multi-process serving is not there yet"
    try:
        from counterline.realtime.broker import RedisBroker  # noqa: F401
    except ImportError:
        return "this Counterline has no Redis broker yet"
    return None


# ---------------------------------------------------------------- figures


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def mib(count: float) -> str:
    return f"{count / 2**20:.1f} MiB"


def latency_summary(latencies: list[float]) -> dict[str, float]:
    values = sorted(latencies)
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 0.50) * 1000, 2),
        "p90_ms": round(percentile(values, 0.90) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "max_ms": round((values[-1] if values else float("nan")) * 1000, 2),
    }


def header(title: str) -> None:
    print(f"== {title}")
    print(f"command: {command_line()}")
    print(f"machine: {machine()}")


def report(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")


def emit_json(name: str, data: dict[str, Any]) -> None:
    """The figures as one machine-readable line (prefix ``RESULT``)."""
    print(f"RESULT {name} {json.dumps(data, ensure_ascii=False, sort_keys=True)}")
