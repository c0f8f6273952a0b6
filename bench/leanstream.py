"""A minimal WebSocket client (RFC 6455, RFC 7692 permessage-deflate) for reading
``/api/v1/stream`` in the load generators, because the instrument must not be the bottleneck.

With the ``websockets`` client every frame costs its parser, a queue, a task wake-up and the
worker's handler (~30 µs): generators holding 10,000 sockets on one core record the last
receipt of a message ~300 ms after the post although the server wrote it within ~95 ms.
Here a plain :class:`asyncio.Protocol` takes the receipt time once per chunk of bytes (top of
``data_received``, for every frame in it) and cuts frames out of a buffer into a callback:
no task, queue or future per frame. Only what a client of that endpoint needs: ``ws://``,
unmasked server frames, fragments, pings, close; it sends masked, uncompressed text frames.
A protocol error drops the connection (close code 1006, :attr:`LeanStream.error` says why).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
import zlib
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

# Called with each complete message's text and the monotonic time its last bytes arrived.
OnMessage = Callable[[str, float], None]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
MAX_HEAD = 64 * 1024
OPEN_TIMEOUT = 120.0


class ProtocolError(Exception): ...


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A final, masked client frame (RFC 6455 section 5.3)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0xFE, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0xFF, n)
    mask = os.urandom(4)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return head + mask + (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


class LeanStream(asyncio.Protocol):
    def __init__(self, request: bytes, key: bytes, on_message: OnMessage, deflate: bool) -> None:
        loop = asyncio.get_running_loop()
        self.request, self.on_message, self.offered_deflate = request, on_message, deflate
        self.accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.ended: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.close_code: int | None = None  # set by a close frame; 1006: dropped without one
        self.error: Exception | None = None
        self.fragments: list[bytes] | None = None  # a fragmented message being assembled
        self.compressed = False  # RSV1 on the message's first frame
        self.deflate = False  # negotiated
        # Kept across messages, unless server_no_context_takeover: then one per message.
        self.inflater: zlib._Decompress | None = None

    async def wait_closed(self) -> None:
        await asyncio.shield(self.ended)

    def send_text(self, text: str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(0x1, text.encode()))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None:
            self.close_code = 1006
            self.error = self.error or exc or ConnectionError("closed without a close frame")
        if not self.opened.done():
            self.opened.set_exception(self.error or ConnectionError("closed in the handshake"))
        self.ended.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        try:
            if not self.opened.done() and not self.handshake():
                return
            start, end = 0, len(buffer)
            while end - start >= 2 and self.close_code is None:
                first, length = buffer[start], buffer[start + 1]
                at = start + 2
                if length & 0x80:
                    raise ProtocolError("masked server frame")
                if length >= 126:  # 16- or 64-bit length
                    size = 2 if length == 126 else 8
                    if end - at < size:
                        break
                    length, at = int.from_bytes(buffer[at : at + size], "big"), at + size
                if end - at < length:
                    break
                start = at + length
                self.frame(first, buffer[at:start], now)
            del buffer[:start]
        except Exception as error:  # a protocol error, or the callback's own
            self.error = error
            if not self.opened.done():
                self.opened.set_exception(error)
            assert self.transport is not None
            self.transport.abort()

    def handshake(self) -> bool:
        """Read the upgrade response once it is all there; True when it was."""
        head, found, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        if not found:
            if len(head) > MAX_HEAD:
                raise ProtocolError("no end to the response headers")
            return False
        status, *lines = head.decode("latin-1").split("\r\n")
        fields = (line.partition(":") for line in lines)
        headers = {name.strip().lower(): value.strip() for name, _, value in fields}
        if status.split(" ")[1:2] != ["101"]:
            raise ConnectionRefusedError(f"server rejected WebSocket connection: {status}")
        if headers.get("sec-websocket-accept") != self.accept:
            raise ProtocolError("bad Sec-WebSocket-Accept")
        if extensions := headers.get("sec-websocket-extensions"):
            name, *params = [part.strip() for part in extensions.split(";")]
            if name != "permessage-deflate" or "," in extensions or not self.offered_deflate:
                raise ProtocolError(f"extensions not offered: {extensions}")
            self.deflate = True
            if "server_no_context_takeover" not in params:
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self.buffer[:] = rest
        self.opened.set_result(None)
        return True

    def frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        reserved = first & 0x70  # RSV1 only on a message's first frame, with deflate
        if reserved and (reserved != 0x40 or not self.deflate or opcode not in (0x1, 0x2)):
            raise ProtocolError("reserved bits set")
        if opcode >= 0x8:
            if not first & 0x80 or len(payload) > 125:
                raise ProtocolError("fragmented or long control frame")
            self.control(opcode, payload)
            return
        if opcode in (0x1, 0x2) and self.fragments is None:  # text or binary: a new message
            self.compressed = bool(first & 0x40)
            if not first & 0x80:
                self.fragments = [payload]
                return
        elif opcode == 0x0 and self.fragments is not None:  # continuation
            self.fragments.append(payload)
            if not first & 0x80:
                return
            payload, self.fragments = b"".join(self.fragments), None
        else:
            raise ProtocolError(f"opcode {opcode} out of place")
        if self.compressed:
            inflater = self.inflater or zlib.decompressobj(-zlib.MAX_WBITS)
            payload = inflater.decompress(payload + b"\x00\x00\xff\xff")
        self.on_message(payload.decode(), now)  # text and binary alike, as UTF-8

    def control(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == 0x9:  # ping: pong with the same payload
            self.transport.write(client_frame(0xA, payload))
        elif opcode == 0x8:  # close: answer with the same code, then hang up
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.transport.write(client_frame(0x8, payload[:2]))
            self.transport.close()
        elif opcode != 0xA:
            raise ProtocolError(f"unexpected opcode {opcode}")


async def open_stream(
    url: str, headers: dict[str, str], on_message: OnMessage, *, deflate: bool = True
) -> LeanStream:
    """Connect to a ``ws://`` URL and return once the server accepted the upgrade."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname is None:
        raise ValueError(f"only ws:// URLs: {url}")
    key = base64.b64encode(os.urandom(16))
    lines = [
        f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
        *([f"Sec-WebSocket-Extensions: {DEFLATE_OFFER}"] if deflate else []),
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(OPEN_TIMEOUT):
        _, stream = await loop.create_connection(
            lambda: LeanStream(request, key, on_message, deflate), parts.hostname, parts.port or 80
        )
        try:
            await stream.opened
        except BaseException:
            assert stream.transport is not None
            stream.transport.abort()
            raise
    return stream
