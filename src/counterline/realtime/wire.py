"""Writing one encoded WebSocket frame to many sockets without an await per socket.

A server's text frame is the same bytes for every recipient (no mask, no per-socket
compression), so the hub encodes it once and hands it to each socket's transport.
uvicorn's WebSocket protocol only offers ``await send(...)`` through ASGI, which costs a
task wake-up, several coroutine layers and a frame encoding per recipient.
:class:`FrameWritingProtocol` is that protocol plus an ASGI scope extension,
``counterline.frames``, through which the app writes ready frames straight to the
transport. Under another server the extension is absent and the stream falls back to
plain ASGI sends.
"""

from __future__ import annotations

import struct
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

FRAMES_EXTENSION = "counterline.frames"
# Clients send only pings: a larger frame is refused (close 1009) before it is buffered,
# instead of uvicorn's default of 16 MiB per socket.
MAX_INBOUND_BYTES = 16 * 1024
_FIN_TEXT = 0x81


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (RFC 6455 section 5.2), as servers send them."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", _FIN_TEXT, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", _FIN_TEXT, 126, length)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, length)
    return header + payload


class FrameWriter:
    """What the extension gives the app: write a ready frame, and see what is unsent."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: FrameWritingProtocol) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Queue the frame on the socket; False once the socket is closing."""
        protocol = self._protocol
        if protocol.close_sent or protocol.disconnected or protocol.transport.is_closing():
            return False
        protocol.transport.write(frame)
        return True

    def unsent_bytes(self) -> int:
        return self._protocol.transport.get_write_buffer_size()

    def abort(self) -> None:
        """Drop the connection at once, unsent data and all (a peer that reads nothing
        would otherwise hold a graceful close open forever)."""
        self._protocol.transport.abort()


class FrameWritingProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol with the ``counterline.frames`` scope extension."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:
            self.scope["extensions"][FRAMES_EXTENSION] = {"writer": FrameWriter(self)}  # type: ignore[index]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            # The handshake is done: its request and response are not needed for the
            # hours the socket stays open (~4 KiB each).
            self.request = self.response = None  # type: ignore[assignment]


def frame_writer_of(scope: dict[str, Any]) -> FrameWriter | None:
    extension = (scope.get("extensions") or {}).get(FRAMES_EXTENSION)
    return extension["writer"] if extension else None


def uvicorn_options() -> dict[str, Any]:
    """How Counterline runs uvicorn, for ``counterline serve`` and the test servers alike."""
    return {
        "ws": FrameWritingProtocol,
        # Every frame is the same for all recipients; compressing it again per socket
        # cost more CPU than the rest of the fan-out (bench/README.md).
        "ws_per_message_deflate": False,
        # The browser's own heartbeat (every 10 s, answered by the app) already keeps
        # proxies and the idle sweeper informed; protocol pings would double the traffic.
        "ws_ping_interval": None,
        "ws_max_size": MAX_INBOUND_BYTES,
        # Only the app decides whose X-Forwarded-For to believe (trusted proxies).
        "proxy_headers": False,
    }
