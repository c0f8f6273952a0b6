"""A real Counterline server on a free port, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from counterline.app import create_app
from counterline.config import Settings
from counterline.realtime.wire import uvicorn_options


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    settings: Settings
    port: int = field(default_factory=free_port)
    plain_uvicorn: bool = False  # without Counterline's frame-writing WebSocket protocol
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    app: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            **self._server_options(),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def _server_options(self) -> dict[str, Any]:
        options = uvicorn_options()  # as `counterline serve`
        if self.plain_uvicorn:
            del options["ws"]
        return options

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._server = None
        self._thread = None

    def restart(self) -> None:
        """Stop and start again on the same port and database (a server restart)."""
        self.stop()
        self.start()

    def holds_connection_from(self, port: int) -> bool:
        """Whether the server still has a connection from this local client port open."""
        assert self._server is not None
        return any(
            getattr(protocol, "client", None) == ("127.0.0.1", port)
            for protocol in self._server.server_state.connections
        )

    @property
    def services(self) -> Any:
        return self.app.state.services
