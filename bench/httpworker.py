"""One HTTP load-generator process: ``python -m bench.httpworker CONFIG.json``.

Each of its keep-alive connections sends one kind of request back to back (closed loop)
from the ``go`` line on stdin until ``duration`` has passed, recording every latency. Posts
get the client id ``bench-<seq>`` and the body ``body_of(seq)``, and their status and
message id are recorded so the coordinator can check the database afterwards.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from bench.httpclient import Connection, build_request
from bench.sender import body_of, client_id


async def client(
    spec: dict[str, Any], host: str, port: int, until: float, out: dict[str, Any]
) -> None:
    connection = await Connection(host, port).open()
    headers = spec["headers"]
    fixed = None if spec["method"] == "POST" else build_request("GET", spec["path"], headers)
    seq = spec.get("first_seq", 0)
    latencies, statuses, posts = out["latencies"], out["statuses"], out["posts"]
    while time.monotonic() < until:
        if fixed is None:
            body = json.dumps(
                {"body": body_of(seq), "client_id": client_id(seq)}, ensure_ascii=False
            ).encode()
            raw = build_request("POST", spec["path"], headers, body)
        else:
            raw = fixed
        started = time.monotonic()
        try:
            response = await connection.send(raw)
        except (OSError, asyncio.IncompleteReadError) as error:
            out["errors"].append(f"{type(error).__name__}: {error}")
            await connection.close()
            connection = await Connection(host, port).open()
            continue
        latencies.append(time.monotonic() - started)
        statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
        if fixed is None:
            message_id = json.loads(response.body)["id"] if response.status in (200, 201) else 0
            posts.append([seq, spec["room_id"], response.status, message_id])
            seq += 1
    await connection.close()


async def main() -> None:
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    out: dict[str, Any] = {"latencies": [], "statuses": {}, "posts": [], "errors": []}
    print(json.dumps({"event": "ready"}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    until = time.monotonic() + config["duration"]
    await asyncio.gather(
        *(client(spec, config["host"], config["port"], until, out) for spec in config["clients"])
    )
    with open(config["results"], "w") as handle:
        json.dump(out, handle)
    print(json.dumps({"event": "done"}), flush=True)


if __name__ == "__main__":
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run
    run(main())
