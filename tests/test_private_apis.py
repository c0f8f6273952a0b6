"""Counterline leans on two libraries' private insides (pinned in pyproject.toml with
upper bounds). If an upgrade changes them, these fail loudly, naming what moved."""

from __future__ import annotations

import inspect
import sqlite3
import threading
from pathlib import Path

import aiosqlite
from uvicorn.protocols.websockets import websockets_sansio_impl

from counterline.realtime.wire import FrameWritingProtocol
from counterline.sqlite_inline import inline_connector


def test_aiosqlite_still_queues_every_call_through_tx_put_nowait() -> None:
    source = inspect.getsource(aiosqlite.Connection)
    assert "self._tx.put_nowait(" in source, "aiosqlite no longer queues calls on _tx"
    assert "def _connect(" in source, "aiosqlite.Connection._connect is gone"
    parameters = inspect.signature(aiosqlite.Connection.__init__).parameters
    assert {"connector", "iter_chunk_size"} <= set(parameters)


async def test_inline_sqlite_calls_run_on_the_event_loop_thread(tmp_path: Path) -> None:
    threads_before = threading.active_count()
    connection = await inline_connector(str(tmp_path / "x.db"), busy_timeout_seconds=1)()
    try:
        await connection.create_function("thread_id", 0, threading.get_ident)
        cursor = await connection.execute("SELECT thread_id(), sqlite_version()")
        row = await cursor.fetchone()
        threads_while_open = threading.active_count()
    finally:
        await connection.close()
    assert row == (threading.get_ident(), sqlite3.sqlite_version)
    assert threads_while_open == threads_before, "aiosqlite started a worker thread"


def test_uvicorn_sansio_websocket_protocol_has_what_the_frame_writer_uses() -> None:
    protocol = websockets_sansio_impl.WebSocketsSansIOProtocol
    source = inspect.getsource(protocol)
    for attribute in ("self.close_sent", "self.transport", "self.response", "self.request"):
        assert attribute in source, f"uvicorn's sans-io protocol no longer has {attribute}"
    assert "disconnected" in source
    for method in ("handle_connect", "send"):
        assert callable(getattr(protocol, method, None)), f"{method} is gone"
    assert issubclass(FrameWritingProtocol, protocol)
