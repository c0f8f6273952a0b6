"""What the load-generator processes that hold streams (``bench.wsworker``, ``bench.dayworker``)
share: how they open ``/api/v1/stream``, how they read a bench message's sequence number
from its frame, and how they start and talk to their coordinator.

Each is started as ``python -m bench.<name> CONFIG.json`` and answers on stdout, one JSON
object a line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect

MESSAGE_PREFIX = '{"type":"message.posted"'
# Frames carry no client id; a bench message's body starts with "#<seq> " (sender.body_of).
BODY_SEQ = '"body":"#'
PING = json.dumps({"type": "ping"})


class Worker(Protocol):
    def run(self) -> Coroutine[Any, Any, None]: ...


async def connect_stream(
    url: str, headers: dict[str, str], *, compression: str | None = "deflate"
) -> ClientConnection:
    """Without the library's pings (the worker sends the app's heartbeat when asked to)
    and without a queue limit (a slow reader must not push back on the server)."""
    return await connect(
        url,
        additional_headers=headers,
        compression=compression,
        open_timeout=120,
        ping_interval=None,
        max_queue=None,
        max_size=2**24,
    )


def bench_seq(frame: str) -> int | None:
    """The sequence number in a ``message.posted`` frame of a bench message (None: the
    message is not one of the bench's)."""
    at = frame.find(BODY_SEQ)
    if at < 0:
        return None
    start = at + len(BODY_SEQ)
    return int(frame[start : frame.index(" ", start)])


def say(event: str, **data: Any) -> None:
    """One line to the coordinator: ``{"event": event, **data}``."""
    with contextlib.suppress(BrokenPipeError):  # the coordinator is gone
        sys.stdout.write(json.dumps({"event": event, **data}) + "\n")
        sys.stdout.flush()


def run_worker(make: Callable[[dict[str, Any]], Worker]) -> None:
    """Make the worker of the config file named on the command line and run it, on uvloop
    where it is installed."""
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run
    run(make(config).run())
