"""A stand-in for the company's intranet systems: a real HTTP server that counts requests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGES: dict[str, tuple[int, str, bytes]] = {
    "/gbk": (200, "text/html", "<html><head><title>营业厅 业务系统</title>".encode("gb18030")),
    "/utf8": (
        200,
        "text/html; charset=utf-8",
        "<title>\n  资费 &amp; 套餐 查询\n</title><body>".encode(),
    ),
    "/moved": (302, "text/html", b""),
    "/pdf": (200, "application/pdf", b"%PDF-1.7 <title>not a page</title>"),
}


class IntranetSite:
    """A real HTTP server standing in for an intranet system; it counts what was asked."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requested.append(self.path)
                status, content_type, body = PAGES.get(self.path, (404, "text/html", b""))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if status == 302:
                    self.send_header("Location", f"{site.url}/gbk")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
