"""Stand-ins for business systems whose status the portal checks: a real HTTP server whose
paths answer at once, slowly, with an error, refuse HEAD, or hang; it can stop answering."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StatusSite:
    """``/ok`` answers at once, ``/slow`` after ``slow_seconds``, ``/broken`` 503, ``/no-head``
    405 to HEAD and 200 to GET, ``/hang`` not before ``hang_seconds``. ``hang_all`` makes
    every path hang (a system that stops answering); ``requested`` lists (method, path)."""

    def __init__(self, *, slow_seconds: float = 0.4, hang_seconds: float = 30.0) -> None:
        self.requested: list[tuple[str, str]] = []
        self.hang_all = False
        self.slow_seconds = slow_seconds
        self.hang_seconds = hang_seconds
        self._released = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                site.requested.append((self.command, self.path))
                path = self.path.split("?")[0]
                if site.hang_all or path.startswith("/hang"):
                    site._released.wait(site.hang_seconds)
                    return
                if path.startswith("/slow"):
                    time.sleep(site.slow_seconds)
                status = {"/broken": 503, "/login": 401}.get(path, 200)
                if path == "/no-head" and self.command == "HEAD":
                    status = 405
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = answer
            do_HEAD = answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()
