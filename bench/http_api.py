"""HTTP: requests/s and latency with 16 concurrent clients (logged-in browsers: session
cookie + CSRF token) for the room page, pages of the messages API (newest, ``before=``,
``after=``), the room list and posting a message; references, same run: a bare Starlette
"hello" endpoint under uvicorn, and the lean reference for reads (bench/lean.py: a bare
Starlette endpoint reading the same newest 50 rows of the same SQLite file with ``sqlite3``
and answering JSON). Afterwards every acknowledged post is looked up in the database by
id, body and room (0 missing, 0 duplicated, 0 extra expected).

The load generator is multi-process Python speaking HTTP/1.1 itself (bench/httpclient.py),
closed loop: each client sends its next request when the last one is answered.

The endpoints and references take turns in rounds (``--rounds``, 3: 5 s each per round),
so a drift in the machine's speed reaches all of them alike.

    .venv/bin/python -m bench.http_api            # full: 15 s per endpoint, in 3 rounds
    .venv/bin/python -m bench.http_api --short    # CI: 1.5 s per endpoint, one round
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
    console_script,
    emit_json,
    free_port,
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

ENDPOINTS = (
    "hello",
    "lean reference",
    "room page",
    "messages API",
    "messages API before=",
    "messages API after=",
    "room list",
    "messages API, returning tab",
    "room list, returning tab",
    "post message",
)
REFERENCES = ("hello", "lean reference")
LEAN_READS = ("messages API", "messages API before=", "messages API after=", "room list")
# A tab that already holds the answer sends its ETag back (If-None-Match): 304, no body.
RETURNING = {"messages API, returning tab": "messages API", "room list, returning tab": "room list"}


def lean_server(run_dir: Path, database_url: str, *, cores: str | None = None) -> Server:
    """The lean reference (bench/lean.py) under uvicorn, started like the hello app, on the
    run's SQLite file."""
    port = free_port()
    command = [console_script("uvicorn"), "bench.lean:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "info", "--no-proxy-headers"]
    path = database_url.split(":///", 1)[1]
    return Server(
        "lean", pinned(command, cores), port, run_dir / "lean.log", {"BENCH_LEAN_DATABASE": path}
    ).start()


def fetch_etags(
    server: Server, sessions: list[dict[str, Any]], manifest: Manifest, ids: dict[str, int]
) -> None:
    """Each session's ETag of the pages a returning tab asks for again."""
    for session in sessions:
        headers = {"Cookie": session["cookie"]}
        with httpx.Client(base_url=server.url, timeout=60, headers=headers) as http:
            session["etags"] = {}
            for endpoint in set(RETURNING.values()):
                path = request_spec(endpoint, session, manifest, ids)["path"]
                session["etags"][path] = http.get(path).raise_for_status().headers.get("etag")


def history_ids(server: Server, session: dict[str, Any], room_id: int) -> dict[str, int]:
    """Ids for ``before=`` (the second page) and ``after=`` (50 messages, more after them)."""
    headers = {"Cookie": session["cookie"]}
    with httpx.Client(base_url=server.url, timeout=60, headers=headers) as http:
        path = f"/api/v1/rooms/{room_id}/messages"
        newest = http.get(path).raise_for_status().json()["messages"]
        older = http.get(path, params={"before": newest[0]["id"]}).raise_for_status().json()
        first = older["messages"][0]["id"] if older["messages"] else newest[0]["id"]
    return {"before": newest[0]["id"], "after": first - 1}


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


def request_spec(
    endpoint: str, session: dict[str, Any], manifest: Manifest, ids: dict[str, int] | None = None
) -> dict[str, Any]:
    if endpoint in RETURNING:
        spec = request_spec(RETURNING[endpoint], session, manifest, ids)
        spec["headers"] = {**spec["headers"], "If-None-Match": session["etags"][spec["path"]]}
        return spec
    if endpoint == "hello":
        return {"method": "GET", "path": "/", "headers": {}}
    company = manifest.company_room_id
    if endpoint == "lean reference":
        return {"method": "GET", "path": f"/rooms/{company}/messages", "headers": {}}
    headers = {"Cookie": session["cookie"], "Accept-Language": "zh-CN"}
    if endpoint == "room page":
        return {"method": "GET", "path": f"/rooms/{company}", "headers": headers}
    if endpoint.startswith("messages API"):
        path = f"/api/v1/rooms/{company}/messages"
        if endpoint.endswith("="):
            option = endpoint.split()[-1].rstrip("=")
            path += f"?{option}={(ids or {})[option]}"
        return {"method": "GET", "path": path, "headers": headers}
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
    duration: float,
) -> dict[str, Any]:
    """Run the clients of ``specs`` over ``args.processes`` processes for ``duration``
    seconds: raw figures, which ``combined`` sums over the rounds."""
    processes = []
    parts = [specs[i :: args.processes] for i in range(args.processes)]
    for number, part in enumerate(parts):
        config = {
            "host": "127.0.0.1",
            "port": server.port,
            "duration": duration,
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
            Fleet._read(process, "done", duration + 120)
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
        "duration": duration,
        "latencies": latencies,
        "statuses": statuses,
        "errors": errors,
        "server_cpu": server_meter.cpu,
        "server_cores": server_meter.cores,
        "generator_cores": generator.cores,
        "other_cores": whole.others(server_meter, generator),
        "posts": posts,
    }


def combined(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One endpoint's figures over all its rounds: requests/s over their summed time, CPU per
    request over all their requests, cores as the mean of the rounds."""
    latencies = [latency for part in rounds for latency in part["latencies"]]
    duration = sum(part["duration"] for part in rounds)
    statuses: dict[str, int] = {}
    for part in rounds:
        for code, count in part["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count

    def mean(key: str) -> float:
        return round(sum(part[key] for part in rounds) / len(rounds), 3)

    server_cpu = sum(part["server_cpu"] for part in rounds)
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / duration, 1),
        "latency": latency_summary(latencies),
        "statuses": statuses,
        "errors": [error for part in rounds for error in part["errors"]][:3],
        "rounds": len(rounds),
        "server_cores": mean("server_cores"),
        "server_cpu_ms_per_request": round(server_cpu / max(1, len(latencies)) * 1000, 3),
        "generator_cores": mean("generator_cores"),
        "other_cores": mean("other_cores"),
        "posts": [post for part in rounds for post in part["posts"]],
    }


def measure_rounds(
    args: Any,
    run_dir: Path,
    references: dict[str, Server],
    counterline: Server,
    manifest: Manifest,
) -> dict[str, list[dict[str, Any]]]:
    """Every endpoint, references included, for ``duration / rounds`` seconds a round, in
    the same order each round: this VM's speed drifts by a third within minutes, and an
    endpoint measured only at the start would be compared with a reference measured in
    another speed."""
    sessions = log_in(counterline, manifest, args.clients)
    ids = history_ids(counterline, sessions[0], manifest.company_room_id)
    rounds: dict[str, list[dict[str, Any]]] = {}
    for number in range(args.rounds):
        fetch_etags(counterline, sessions, manifest, ids)  # the last round's posts changed them
        for endpoint in ENDPOINTS:
            if endpoint in RETURNING and None in sessions[0]["etags"].values():
                continue  # a server without validators: nothing to send back
            if endpoint not in references and endpoint in REFERENCES:
                continue
            specs = []
            for client, session in enumerate(sessions):
                spec = request_spec(endpoint, session, manifest, ids)
                spec["first_seq"] = client * 10_000_000 + number * 1_000_000
                specs.append(spec)
            name = f"{endpoint.replace(' ', '-')}-{number}"
            server = references.get(endpoint, counterline)
            part = load(args, run_dir, server, specs, name, args.duration / args.rounds)
            rounds.setdefault(endpoint, []).append(part)
    return rounds


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per endpoint")
    parser.add_argument("--history", type=int, default=20_000, help="messages in the database")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over all endpoints, duration split over them"
    )
    args = parser.parse_args()
    args.branches, args.clerks = 50, 20
    if args.short:
        args.branches, args.clerks, args.duration, args.history = 5, 20, 1.5, 500
        args.rounds = 1
    print_header(f"HTTP: {args.clients} concurrent clients")
    shape = Shape(args.branches, args.clerks, history_messages=args.history)
    failed = False
    with prepared(args, "http", shape) as (run_dir, provisioned):
        manifest = provisioned.manifest
        references = {"hello": hello_server(run_dir, cores=server_cores(args))}
        if provisioned.database_url.startswith("sqlite"):
            references["lean reference"] = lean_server(
                run_dir, provisioned.database_url, cores=server_cores(args)
            )
        try:
            with counterline_nodes(args, run_dir, provisioned) as servers:
                rounds = measure_rounds(args, run_dir, references, servers[0], manifest)
        finally:
            for reference in references.values():
                reference.stop()
        results = {endpoint: combined(parts) for endpoint, parts in rounds.items()}
        posts = [
            Post(seq, 0, room_id, "", status=status, message_id=message_id)
            for seq, room_id, status, message_id in results["post message"].pop("posts")
        ]
        check = check_store(provisioned.database_url, posts)
    base = results["hello"]["requests_per_s"]
    lean = results.get("lean reference", {}).get("requests_per_s")
    rows = []
    for endpoint in ENDPOINTS:
        if endpoint not in results:
            why = "SQLite only" if endpoint == "lean reference" else "the server sent no ETag"
            rows.append((endpoint, f"not measured ({why})"))
            continue
        r = results[endpoint]
        r.pop("posts", None)
        expected = "304" if endpoint in RETURNING else "2"
        bad = {code: n for code, n in r["statuses"].items() if not code.startswith(expected)}
        failed = failed or bool(bad) or bool(r["errors"])
        if lean and (endpoint in LEAN_READS or endpoint in RETURNING or endpoint == "room page"):
            r["of_lean"] = round(r["requests_per_s"] / lean, 3)
            ratio = f"{r['of_lean']:.2f} of lean"
        else:
            ratio = f"{r['requests_per_s'] / base:.2f} of hello"
        rows.append(
            (
                endpoint,
                f"{r['requests_per_s']:>8} req/s ({ratio})  "
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
