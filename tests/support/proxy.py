"""A TCP forwarder between a browser and a live server whose cable can be pulled.

``cut()`` stops every byte in both directions without closing anything, as a pulled cable or a
dead Wi-Fi link does: no FIN, no RST, no error, just silence. New connections are still
accepted but go nowhere. Bytes sent meanwhile wait (as TCP retransmits them) and flow again
after ``restore()``, unless their sender gave up on the connection first.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from tests.support.live import free_port

CHUNK = 64 * 1024


class Proxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target_port``, from a thread of its own."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._flowing = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Proxy:
        self._thread.start()
        self._run(self._listen())
        return self

    def cut(self) -> None:
        self._run(self._set_flowing(False))

    def restore(self) -> None:
        self._run(self._set_flowing(True))

    def stop(self) -> None:
        self._run(self._close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=5)

    async def _listen(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def _set_flowing(self, flowing: bool) -> None:
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _close_all(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _forward(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._flowing.wait()  # a connection made while cut reaches nobody
            server, to_server = await asyncio.open_connection("127.0.0.1", self.target_port)
            try:
                await asyncio.gather(self._pump(client, to_server), self._pump(server, to_client))
            finally:
                to_server.close()
        except OSError:
            pass
        finally:
            self._connections.discard(task)
            to_client.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy until the source ends, then end the sink (which ends the opposite pump).
        While cut, bytes and the end alike wait."""
        try:
            while data := await source.read(CHUNK):
                await self._flowing.wait()
                sink.write(data)
                await sink.drain()
            await self._flowing.wait()
        except OSError:
            pass
        sink.close()
