"""A realistic day: 2,000 clerks (100 branches x 20; every clerk in her branch room and the
company room) start the morning, then work through a measured window.

Morning: within ``--ramp`` seconds (600 at full scale: everyone between 8:20 and 8:30) each
clerk opens her branch room's page, the room list and the stream; ``--login-share`` of them
first log in with their password through the real login form (login page, form post with
its CSRF token, argon2 on the server), the others come back with their session cookie
(sessions opened beforehand through the app's own ``start_session``).

Window (``--window`` seconds): 20 posts/s over HTTP, open loop, spread over the rooms (5 %
into the company room), while clerks scroll back through history (``GET
/api/v1/rooms/{id}/messages?before=…``), reopen tabs (page, room list, and the stream again
with the last message id they had: the catch-up) and leave for 6–15 s and come back
(presence churn: offline after the 5 s grace, online again). Reported: server CPU over the
window (target <= 50 % of one core), delivery p50/p99 (post written -> live frame at the
recipient; target <= 100 ms), page-load p99 (the room page; target <= 200 ms), login p99,
RSS; every message must reach every member once, live or through a catch-up (0 lost, 0
duplicated), and the store check: every acknowledged post stored once.

Baseline, same run, same server and clients: a quiet window right after, the same 20
posts/s and nothing else (every tab just stays open), so the busy window's CPU and
latency read as "what the reading, reopening and churn add to plain delivery".

    .venv/bin/python -m bench.day                  # full: 2,000 clerks, 10 min ramp, 60 s
    .venv/bin/python -m bench.day --ramp 120       # the same morning in 2 minutes
    .venv/bin/python -m bench.day --short          # CI: 100 clerks, a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.fanout import prepared
from bench.fleet import Fleet
from bench.harness import (
    ROOT,
    MachineMeter,
    Meter,
    arguments,
    emit_json,
    generator_cores,
    header,
    latency_summary,
    pinned,
    report,
    rss_bytes,
)
from bench.manifest import Manifest
from bench.seed import Provisioned, Shape
from bench.sender import HttpPoster, Post, plan, run_open_loop
from bench.targets import check_store, counterline_nodes
from counterline.accounts.actions import start_session
from counterline.accounts.models import User
from counterline.config import Settings
from counterline.services import Services

HEARTBEAT = 10.0  # the browser's ping (COUNTERLINE_CLIENT_PING_SECONDS)
QUIET_FIRST_SEQ = 10_000_000


def parse() -> argparse.Namespace:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=100)
    parser.add_argument("--clerks", type=int, default=20, help="clerks per branch")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--ramp", type=float, default=600.0, help="seconds for the morning")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--rate", type=float, default=20.0, help="posts per second")
    parser.add_argument("--company-share", type=float, default=0.05)
    parser.add_argument("--login-share", type=float, default=0.2)
    parser.add_argument("--scrolls", type=float, default=5.0, help="history pages per second")
    parser.add_argument("--reopens", type=float, default=1.0, help="tabs reopened per second")
    parser.add_argument("--churn", type=float, default=0.3, help="clerks leaving per second")
    parser.add_argument("--history", type=int, default=20_000, help="messages stored before")
    parser.add_argument("--no-quiet-window", action="store_true", help="skip the baseline window")
    args = parser.parse_args()
    if args.short:
        args.branches, args.clerks, args.ramp, args.window, args.history = 5, 20, 3.0, 4.0, 500
        args.login_share, args.scrolls, args.reopens, args.churn = 0.05, 5.0, 2.0, 0.0
    return args


# ---------------------------------------------------------------- sessions beforehand


def open_sessions(database_url: str, usernames: list[str]) -> dict[str, str]:
    """A session cookie for each of these clerks, opened as a login opens one."""
    return asyncio.run(_open_sessions(database_url, usernames))


async def _open_sessions(database_url: str, usernames: list[str]) -> dict[str, str]:
    services = Services.from_settings(Settings(database_url=database_url))
    cookies = {}
    try:
        async with services.transaction() as unit:
            users = (
                await unit.session.scalars(select(User).where(User.username.in_(usernames)))
            ).all()
            for user in users:
                cookies[user.username], _ = await start_session(unit, user, "127.0.0.1")
    finally:
        await services.database.dispose()
    return cookies


# ---------------------------------------------------------------- workers


class Clerks:
    """The load-generator processes and what they report."""

    def __init__(self, args: argparse.Namespace, run_dir: Path, port: int, config: dict) -> None:
        self.run_dir = run_dir
        self.processes: list[subprocess.Popen[str]] = []
        self.parts: list[list[int]] = []
        clerks = config.pop("clerks")
        count = max(1, min(args.processes, len(clerks)))
        for number in range(count):
            part = list(range(number, len(clerks), count))
            self.parts.append(part)
            path = run_dir / f"day-{number}.config.json"
            results = run_dir / f"day-{number}.json"
            path.write_text(
                json.dumps(
                    {
                        **config,
                        "port": port,
                        "seed": number,
                        "clerks": [clerks[i] for i in part],
                        "results": str(results),
                    }
                )
            )
            command = [sys.executable, "-m", "bench.dayworker", str(path)]
            self.processes.append(
                subprocess.Popen(
                    pinned(command, generator_cores(args)),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                )
            )
        for process in self.processes:
            Fleet._read(process, "ready", 60)
        self.count = len(clerks)

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def send(self, **command: Any) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()

    def wait(self, event: str, timeout: float) -> list[dict[str, Any]]:
        return [Fleet._read(process, event, timeout) for process in self.processes]

    def ask(self, event: str, timeout: float = 120, **command: Any) -> list[dict[str, Any]]:
        self.send(**command)
        return self.wait(event, timeout)

    def messages(self) -> int:
        return sum(part["messages"] for part in self.ask("stats", cmd="stats"))

    def collect(self) -> dict[str, Any]:
        """What every clerk recorded since the last collect, by clerk index."""
        self.ask("saved", cmd="save")
        merged: dict[str, Any] = {
            "live": [[] for _ in range(self.count)],
            "times": [[] for _ in range(self.count)],
            "replayed": [[] for _ in range(self.count)],
            "latencies": {},
            "statuses": {},
            "errors": [],
            "counts": {},
        }
        for number, part in enumerate(self.parts):
            data = json.loads((self.run_dir / f"day-{number}.json").read_text())
            for local, index in enumerate(part):
                for key in ("live", "times", "replayed"):
                    merged[key][index] = data[key][local]
            for kind, values in data["latencies"].items():
                merged["latencies"].setdefault(kind, []).extend(values)
            for kind, by_status in data["statuses"].items():
                into = merged["statuses"].setdefault(kind, {})
                for status, n in by_status.items():
                    into[status] = into.get(status, 0) + n
            merged["errors"] += data["errors"]
            for key in ("presence", "other", "reopens", "churn", "scrolls"):
                merged["counts"][key] = merged["counts"].get(key, 0) + data[key]
        return merged

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    assert process.stdin is not None
                    process.stdin.write(json.dumps({"cmd": "stop"}) + "\n")
                    process.stdin.flush()
                    process.wait(timeout=30)
                except (OSError, subprocess.TimeoutExpired):
                    process.kill()
                    process.wait()


# ---------------------------------------------------------------- scoring


def requests_summary(recorded: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for kind, values in sorted(recorded["latencies"].items()):
        out[kind] = {**latency_summary(values), "statuses": recorded["statuses"].get(kind, {})}
    return out


def score(posts: list[Post], recorded: dict[str, Any], rooms_of: list[set[int]]) -> dict[str, Any]:
    """Every message of a clerk's rooms received once, live or replayed by a catch-up."""
    by_seq = {post.seq: post for post in posts if post.status in (200, 201)}
    ours = {post.seq for post in posts}
    expected = delivered = lost = duplicated = unexpected = replayed = 0
    latencies: list[float] = []
    for index, rooms in enumerate(rooms_of):
        wanted = {seq for seq, post in by_seq.items() if post.room_id in rooms}
        expected += len(wanted)
        seen: set[int] = set()
        arrivals = [
            *zip(recorded["live"][index], recorded["times"][index], strict=True),
            *((seq, None) for seq in recorded["replayed"][index]),
        ]
        for seq, at in arrivals:
            if seq not in ours:
                continue  # not this window's
            if seq not in wanted:
                unexpected += 1
            elif seq in seen:
                duplicated += 1
            else:
                seen.add(seq)
                if at is None:
                    replayed += 1
                else:
                    latencies.append(at - by_seq[seq].sent_at)
        delivered += len(seen)
        lost += len(wanted - seen)
    acked = list(by_seq.values())
    return {
        "posts": len(posts),
        "failed_posts": len(posts) - len(acked),
        "post_errors": sorted({f"{p.status} {p.error}"[:120] for p in posts if p not in acked})[:3],
        "expected": expected,
        "delivered": delivered,
        "delivered_live": len(latencies),
        "replayed": replayed,
        "lost": lost,
        "duplicated": duplicated,
        "unexpected": unexpected,
        "latency": latency_summary(latencies),
        "post_ack": latency_summary([p.acked_at - p.sent_at for p in acked]),
    }


# ---------------------------------------------------------------- phases


def morning(args: argparse.Namespace, clerks: Clerks, server_pids: list[int]) -> dict[str, Any]:
    with MachineMeter() as whole, Meter(server_pids) as server, Meter(clerks.pids()) as gen:
        clerks.send(cmd="morning", t0=time.monotonic() + 0.5, ramp=args.ramp)
        arrived = clerks.wait("arrived", args.ramp + 600)
    recorded = clerks.collect()
    return {
        "ramp_s": args.ramp,
        "seconds": round(server.wall, 1),
        "connected": sum(part["connected"] for part in arrived),
        "requests": requests_summary(recorded),
        "presence_frames": recorded["counts"]["presence"],
        "errors": recorded["errors"][:5],
        "server_cores": round(server.cores, 3),
        "server_cpu_s": round(server.cpu, 1),
        "server_rss_mib": round(server.rss / 2**20, 1),
        "generator_cores": round(gen.cores, 3),
        "other_cores": round(whole.others(server, gen), 3),
    }


def window(
    args: argparse.Namespace,
    clerks: Clerks,
    server_url: str,
    server_pids: list[int],
    manifest: Manifest,
    rooms_of: list[set[int]],
    *,
    busy: bool,
    first_seq: int,
) -> tuple[dict[str, Any], list[Post]]:
    rng = random.Random(first_seq)
    by_room: dict[int, list[str]] = {}
    for user in manifest.users:
        by_room.setdefault(user.branch_room_id, []).append(user.token)
    company = [(manifest.company_room_id, [u.token for u in manifest.users])]
    streams = [
        (args.rate * (1 - args.company_share), sorted(by_room.items())),
        (args.rate * args.company_share, company),
    ]
    posts = plan(rng, first_seq, args.window, [s for s in streams if s[0] > 0])
    share = 1 / len(clerks.processes)
    rates = {
        "scrolls": args.scrolls * share if busy else 0.0,
        "reopens": args.reopens * share if busy else 0.0,
        "churn": args.churn * share if busy else 0.0,
    }
    before = clerks.messages()
    with (
        MachineMeter() as whole,
        Meter(server_pids) as server,
        Meter([*clerks.pids()]) as gen,
    ):
        clerks.send(cmd="window", duration=args.window, **rates)
        lag = asyncio.run(_post(server_url, posts))
        clerks.wait("window", args.window + 120)
    expected = sum(
        sum(1 for rooms in rooms_of if post.room_id in rooms)
        for post in posts
        if post.status in (200, 201)
    )
    _wait_for(clerks, before + expected, timeout=30)
    recorded = clerks.collect()
    figures = score(posts, recorded, rooms_of)
    figures.update(
        {
            "busy": busy,
            "seconds": round(server.wall, 1),
            "requests": requests_summary(recorded),
            "actions": recorded["counts"],
            "errors": recorded["errors"][:5],
            "server_cores": round(server.cores, 3),
            "server_cpu_us_per_delivery": round(server.cpu / max(1, figures["delivered"]) * 1e6, 1),
            "server_rss_mib": round(server.rss / 2**20, 1),
            "server_peak_rss_mib": round(server.peak_rss / 2**20, 1),
            "generator_cores": round(gen.cores, 3),
            "other_cores": round(whole.others(server, gen), 3),
            "sender_lag_ms": round(lag * 1000, 1),
        }
    )
    return figures, posts


async def _post(url: str, posts: list[Post]) -> float:
    poster = HttpPoster([url])
    try:
        return await run_open_loop(poster, posts)
    finally:
        await poster.close()


def _wait_for(clerks: Clerks, messages: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and clerks.messages() < messages:
        time.sleep(0.2)


# ---------------------------------------------------------------- report


def pct(summary: dict[str, Any] | None) -> str:
    if not summary:
        return "none"
    return f"p50 {summary['p50_ms']} / p99 {summary['p99_ms']} ms (n={summary['count']})"


def met(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def window_rows(label: str, f: dict[str, Any]) -> list[tuple[str, str]]:
    req = f["requests"]
    actions = f["actions"]
    lat = f["latency"]
    return [
        (
            f"{label}: messages",
            f"{f['posts']} posted ({f['failed_posts']} failed), post ack {pct(f['post_ack'])}",
        ),
        (
            f"{label}: deliveries",
            f"{f['delivered']} of {f['expected']} ({f['delivered_live']} live, "
            f"{f['replayed']} replayed by a catch-up)",
        ),
        (
            f"{label}: lost / duplicated / unexpected",
            f"{f['lost']} lost / {f['duplicated']} duplicated / {f['unexpected']} unexpected",
        ),
        (
            f"{label}: delivery latency",
            f"p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms "
            f"(target p99 <= 100 ms: {met(lat['p99_ms'], 100)})",
        ),
        (
            f"{label}: reading",
            f"{actions['scrolls']} history pages {pct(req.get('history page'))}; "
            f"{actions['reopens']} tabs reopened, {actions['churn']} clerks back after a while; "
            f"room page {pct(req.get('room page'))}; room list {pct(req.get('room list'))}; "
            f"stream ready {pct(req.get('stream ready'))}",
        ),
        (
            f"{label}: server CPU",
            f"{f['server_cores'] * 100:.0f}% of a core over {f['seconds']} s "
            f"(target <= 50%: {met(f['server_cores'], 0.5)}; "
            f"{f['server_cpu_us_per_delivery']} µs per delivery)",
        ),
        (
            f"{label}: server RSS",
            f"{f['server_rss_mib']} MiB (peak {f['server_peak_rss_mib']} MiB)",
        ),
        (
            f"{label}: load generator / others",
            f"{f['generator_cores'] * 100:.0f}% / {f['other_cores'] * 100:.0f}% of a core"
            + (f"; errors {f['errors']}" if f["errors"] else ""),
        ),
    ]


def morning_rows(m: dict[str, Any], clerks: int) -> list[tuple[str, str]]:
    req = m["requests"]
    page = req.get("room page", {})
    return [
        (
            "morning: clerks",
            f"{m['connected']} of {clerks} with an open stream after {m['seconds']} s "
            f"(ramp {m['ramp_s']:g} s; {m['presence_frames']} presence frames)",
        ),
        (
            "morning: login",
            f"login page {pct(req.get('login page'))}; form post {pct(req.get('login'))}",
        ),
        (
            "morning: page load",
            f"room page {pct(page)} (target p99 <= 200 ms: "
            f"{met(page.get('p99_ms', 0), 200) if page else 'none'}); "
            f"room list {pct(req.get('room list'))}; stream ready {pct(req.get('stream ready'))}",
        ),
        (
            "morning: server",
            f"{m['server_cores'] * 100:.0f}% of a core ({m['server_cpu_s']} s CPU); "
            f"RSS {m['server_rss_mib']} MiB; generator {m['generator_cores'] * 100:.0f}%, "
            f"others {m['other_cores'] * 100:.0f}% of a core"
            + (f"; errors {m['errors']}" if m["errors"] else ""),
        ),
    ]


def bad_statuses(figures: dict[str, Any]) -> dict[str, dict[str, int]]:
    bad = {}
    for kind, r in figures["requests"].items():
        wrong = {s: n for s, n in r["statuses"].items() if s not in ("200", "303", "101")}
        if wrong:
            bad[kind] = wrong
    return bad


def main() -> None:
    args = parse()
    clerk_count = args.branches * args.clerks
    header(
        f"a day: {clerk_count} clerks, morning in {args.ramp:g} s, then {args.rate:g} posts/s "
        f"for {args.window:g} s with history, reopened tabs and presence churn"
    )
    shape = Shape(args.branches, args.clerks, history_messages=args.history)
    results: dict[str, Any] = {}
    failures: list[str] = []
    with prepared(args, "day", shape) as (run_dir, provisioned):
        results = run(args, run_dir, provisioned, failures)
        everything = results.pop("_posts")
        check = check_store(provisioned.database_url, everything)
        report([("store check", check.line())])
        results["store_ok"] = check.ok
        if not check.ok:
            failures.append("store")
    emit_json("day", results)
    if failures:
        print(f"FAILED: {failures}")
        sys.exit(1)


def run(
    args: argparse.Namespace, run_dir: Path, provisioned: Provisioned, failures: list[str]
) -> dict[str, Any]:
    manifest = provisioned.manifest
    rng = random.Random(1)
    users = manifest.users
    logging_in = set(rng.sample(range(len(users)), round(len(users) * args.login_share)))
    cookies = open_sessions(
        provisioned.database_url, [u.username for i, u in enumerate(users) if i not in logging_in]
    )
    rooms_of = [{manifest.company_room_id, u.branch_room_id} for u in users]
    history = manifest.history or {"first_id": 1, "last_id": 1}
    config = {
        "host": "127.0.0.1",
        "company_room_id": manifest.company_room_id,
        "password": manifest.password,
        "heartbeat": HEARTBEAT,
        "history": [history["first_id"], history["last_id"]],
        "clerks": [
            {
                "index": i,
                "username": u.username,
                "cookie": cookies.get(u.username, ""),
                "branch_room_id": u.branch_room_id,
                "login": i in logging_in,
                "offset": rng.random(),
                "last_id": history["last_id"],
            }
            for i, u in enumerate(users)
        ],
    }
    results: dict[str, Any] = {"clerks": len(users), "logging_in": len(logging_in)}
    all_posts: list[Post] = []
    with counterline_nodes(args, run_dir, provisioned) as servers:
        server = servers[0]
        pids = server.pids()
        results["idle_rss_mib"] = round(rss_bytes(pids) / 2**20, 1)
        clerks = Clerks(args, run_dir, server.port, config)
        try:
            m = morning(args, clerks, pids)
            report(morning_rows(m, len(users)))
            results["morning"] = m
            if m["connected"] < len(users) or m["errors"] or bad_statuses(m):
                failures.append(f"morning: {bad_statuses(m)} {m['errors'][:2]}")
            time.sleep(1.0 if args.short else 5.0)  # the arrivals' presence settles
            windows = [("busy window", True, 1)]
            if not args.no_quiet_window:
                windows.append(("quiet window", False, QUIET_FIRST_SEQ))
            for label, busy, first_seq in windows:
                figures, posts = window(
                    args,
                    clerks,
                    server.url,
                    pids,
                    manifest,
                    rooms_of,
                    busy=busy,
                    first_seq=first_seq,
                )
                all_posts += posts
                report(window_rows(label, figures))
                results[label.replace(" ", "_")] = figures
                if (
                    figures["lost"]
                    or figures["duplicated"]
                    or figures["unexpected"]
                    or figures["failed_posts"]
                    or bad_statuses(figures)
                ):
                    failures.append(f"{label}: lost/duplicated/failed or {bad_statuses(figures)}")
        finally:
            clerks.stop()
    if "quiet_window" in results:
        busy, quiet = results["busy_window"], results["quiet_window"]
        report(
            [
                (
                    "busy / quiet window",
                    f"server CPU {busy['server_cores'] * 100:.0f}% / "
                    f"{quiet['server_cores'] * 100:.0f}% of a core; delivery p99 "
                    f"{busy['latency']['p99_ms']} / {quiet['latency']['p99_ms']} ms",
                )
            ]
        )
    results["_posts"] = all_posts
    return results


if __name__ == "__main__":
    main()
