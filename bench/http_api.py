"""HTTP: requests/s and latency with 16 concurrent clients (logged-in browsers: session
cookie + CSRF token) for the room page, a page of the messages API, the room list and
posting a message; baseline, same run: a bare Starlette "hello" endpoint under uvicorn.
Afterwards every acknowledged post is looked up in the database by id, body and room
(0 missing, 0 duplicated, 0 extra expected).

The load generator is multi-process Python speaking HTTP/1.1 itself (bench/httpclient.py),
closed loop: each client sends its next request when the last one is answered.

    .venv/bin/python -m bench.http_api            # full: 15 s per endpoint
    .venv/bin/python -m bench.http_api --short    # CI: 1.5 s per endpoint
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from bench.fanout import prepared
from bench.fleet import Fleet
from bench.harness import (
    ROOT,
    MachineMeter,
    Meter,
    Server,
    arguments,
    emit_json,
    generator_cores,
    hello_server,
    latency_summary,
    pinned,
    report,
    server_cores,
)
from bench.harness import header as print_header
from bench.manifest import Manifest
from bench.seed import Shape
from bench.sender import Post
from bench.targets import check_store, counterline_nodes

ENDPOINTS = ("hello", "room page", "messages API", "room list", "post message")


def log_in(server: Server, manifest: Manifest, count: int) -> list[dict[str, Any]]:
    """``count`` browser sessions: cookie, CSRF token and the user's branch room."""
    sessions = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for user in manifest.users[:count]:
            response = http.post(
                "/api/v1/session", json={"username": user.username, "password": manifest.password}
            )
            response.raise_for_status()
            sessions.append(
                {
                    "cookie": f"counterline_session={response.cookies['counterline_session']}",
                    "csrf": response.json()["csrf_token"],
                    "branch_room_id": user.branch_room_id,
                }
            )
            http.cookies.clear()
    return sessions


def request_spec(endpoint: str, session: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
    if endpoint == "hello":
        return {"method": "GET", "path": "/", "headers": {}}
    headers = {"Cookie": session["cookie"], "Accept-Language": "zh-CN"}
    company = manifest.company_room_id
    if endpoint == "room page":
        return {"method": "GET", "path": f"/rooms/{company}", "headers": headers}
    if endpoint == "messages API":
        return {"method": "GET", "path": f"/api/v1/rooms/{company}/messages", "headers": headers}
    if endpoint == "room list":
        return {"method": "GET", "path": "/api/v1/rooms", "headers": headers}
    room_id = session["branch_room_id"]
    return {
        "method": "POST",
        "path": f"/api/v1/rooms/{room_id}/messages",
        "room_id": room_id,
        "headers": {
            **headers,
            "Content-Type": "application/json",
            "X-CSRF-Token": session["csrf"],
        },
    }


def load(
    args: Any,
    run_dir: Path,
    server: Server,
    specs: list[dict[str, Any]],
    name: str,
) -> dict[str, Any]:
    """Run the clients of ``specs`` over ``args.processes`` processes for ``args.duration``."""
    processes = []
    parts = [specs[i :: args.processes] for i in range(args.processes)]
    for number, part in enumerate(parts):
        config = {
            "host": "127.0.0.1",
            "port": server.port,
            "duration": args.duration,
            "clients": part,
            "results": str(run_dir / f"{name}-{number}.json"),
        }
        path = run_dir / f"{name}-{number}.config.json"
        path.write_text(json.dumps(config))
        command = [sys.executable, "-m", "bench.httpworker", str(path)]
        processes.append(
            subprocess.Popen(
                pinned(command, generator_cores(args)),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
        )
    for process in processes:
        Fleet._read(process, "ready", 60)
    with (
        MachineMeter() as whole,
        Meter(server.pids()) as server_meter,
        Meter([p.pid for p in processes]) as generator,
    ):
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            Fleet._read(process, "done", args.duration + 120)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    posts: list[list[int]] = []
    errors: list[str] = []
    for number, process in enumerate(processes):
        process.wait(timeout=30)
        data = json.loads((run_dir / f"{name}-{number}.json").read_text())
        latencies += data["latencies"]
        posts += data["posts"]
        errors += data["errors"]
        for code, count in data["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / args.duration, 1),
        "latency": latency_summary(latencies),
        "statuses": statuses,
        "errors": errors[:3],
        "server_cores": round(server_meter.cores, 3),
        "server_cpu_ms_per_request": round(server_meter.cpu / max(1, len(latencies)) * 1000, 3),
        "generator_cores": round(generator.cores, 3),
        "other_cores": round(whole.others(server_meter, generator), 3),
        "posts": posts,
    }


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per endpoint")
    parser.add_argument("--history", type=int, default=20_000, help="messages in the database")
    args = parser.parse_args()
    args.branches, args.clerks = 50, 20
    if args.short:
        args.branches, args.clerks, args.duration, args.history = 5, 20, 1.5, 500
    print_header(f"HTTP: {args.clients} concurrent clients")
    shape = Shape(args.branches, args.clerks, history_messages=args.history)
    results: dict[str, Any] = {}
    failed = False
    with prepared(args, "http", shape) as (run_dir, provisioned):
        manifest = provisioned.manifest
        hello = hello_server(run_dir, cores=server_cores(args))
        try:
            specs = [request_spec("hello", {}, manifest)] * args.clients
            results["hello"] = load(args, run_dir, hello, specs, "hello")
        finally:
            hello.stop()
        with counterline_nodes(args, run_dir, provisioned) as servers:
            sessions = log_in(servers[0], manifest, args.clients)
            for endpoint in ENDPOINTS[1:]:
                specs = []
                for number, session in enumerate(sessions):
                    spec = request_spec(endpoint, session, manifest)
                    spec["first_seq"] = number * 10_000_000
                    specs.append(spec)
                results[endpoint] = load(
                    args, run_dir, servers[0], specs, endpoint.replace(" ", "-")
                )
        posts = [
            Post(seq, 0, room_id, "", status=status, message_id=message_id)
            for seq, room_id, status, message_id in results["post message"].pop("posts")
        ]
        check = check_store(provisioned.database_url, posts)
    base = results["hello"]["requests_per_s"]
    rows = []
    for endpoint in ENDPOINTS:
        r = results[endpoint]
        r.pop("posts", None)
        bad = {code: n for code, n in r["statuses"].items() if not code.startswith("2")}
        failed = failed or bool(bad) or bool(r["errors"])
        rows.append(
            (
                endpoint,
                f"{r['requests_per_s']:>8} req/s ({r['requests_per_s'] / base:.2f} of hello)  "
                f"p50 {r['latency']['p50_ms']} ms  p99 {r['latency']['p99_ms']} ms  "
                f"server {r['server_cores'] * 100:.0f}% ({r['server_cpu_ms_per_request']} ms "
                f"CPU/request)  generator {r['generator_cores'] * 100:.0f}%  "
                f"others {r['other_cores'] * 100:.0f}%" + (f"  NON-2xx {bad}" if bad else ""),
            )
        )
    report(rows)
    report([("store check", check.line())])
    results["store_check"] = {
        "acknowledged": check.acknowledged,
        "missing": check.missing,
        "duplicated": check.duplicated,
        "extra": check.extra,
        "mismatched": check.mismatched,
    }
    emit_json("http", results)
    if failed or not check.ok:
        print("FAILED: error responses, or the store does not match what was acknowledged")
        sys.exit(1)


if __name__ == "__main__":
    main()
