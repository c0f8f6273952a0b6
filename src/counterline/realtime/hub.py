"""The per-process hub: which local sockets listen to which stream.

Delivering an envelope appends the same pre-encoded frame to each subscriber's
outbox; one writer task per socket drains it. No await and no encoding happen
per recipient on the hot path. A socket whose outbox grows past its limit is a
slow consumer: it is closed and resyncs from the database when it reconnects.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from counterline.measures import Summary
from counterline.realtime.controls import Notice
from counterline.realtime.events import Envelope
from counterline.realtime.wire import FrameWriter, text_frame

OUTBOX_LIMIT = 2_000
UNSENT_BYTES_LIMIT = 1 << 20
CLOSE_SLOW_CONSUMER = 4008
CLOSE_SESSION_ENDED = 4001
CLOSE_IDLE = 4002
CLOSE_GONE = 1006


class Frame:
    """One JSON text frame, encoded for the wire at most once however many get it.

    ``message_id`` is the message a ``message.posted`` frame carries (0 for other frames),
    so a socket can skip what it already sent from the database without parsing the text.
    """

    __slots__ = ("_wire", "message_id", "text")

    def __init__(self, text: str, message_id: int = 0) -> None:
        self.text = text
        self.message_id = message_id
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.text.encode())
        return self._wire


class Connection:
    """One browser tab's socket, as the hub sees it.

    Frames wait in the outbox while the client catches up from the database; the
    drain task sends them. Once the outbox is empty, a socket with a frame writer
    (see realtime.wire) is written to directly by ``push``, in the order pushed.
    """

    __slots__ = (
        "close_code",
        "closed",
        "direct",
        "ends_at",
        "last_inbound",
        "outbox",
        "send_text",
        "session_id",
        "skip_through",
        "staff",
        "streams",
        "token_id",
        "user_id",
        "wakeup",
        "writer",
    )

    def __init__(
        self,
        send_text: Callable[[str], Awaitable[Any]],
        user_id: int,
        *,
        staff: bool,
        session_id: int | None,
        token_id: int | None = None,
        writer: FrameWriter | None = None,
        ends_at: datetime | None = None,
    ) -> None:
        self.send_text = send_text
        self.ends_at = ends_at  # when its session reaches its absolute lifetime
        self.writer = writer
        self.direct = False
        self.user_id = user_id
        self.staff = staff
        self.session_id = session_id
        self.token_id = token_id
        self.outbox: deque[Frame] = deque()
        self.wakeup = asyncio.Event()
        self.streams: set[str] = set()
        self.closed = False
        self.close_code = 1000
        self.last_inbound = time.monotonic()
        self.skip_through = 0

    def push(self, frame: Frame, message_id: int = 0) -> None:
        # Messages up to skip_through were already sent from the database at connect.
        # ``message_id`` is frame.message_id, passed by the hub: an argument is cheaper
        # than an attribute read on the hot path.
        if self.closed or (message_id and message_id <= self.skip_through):
            return
        if self.direct:
            self._write(frame)
        elif len(self.outbox) >= OUTBOX_LIMIT:
            self.close(CLOSE_SLOW_CONSUMER)
        else:
            self.outbox.append(frame)
            self.wakeup.set()

    def _write(self, frame: Frame) -> None:
        assert self.writer is not None
        if not self.writer.write(frame.wire):
            self.close(CLOSE_GONE)
        elif self.writer.unsent_bytes() > UNSENT_BYTES_LIMIT:
            self.close(CLOSE_SLOW_CONSUMER)

    def close(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.wakeup.set()

    async def drain(self) -> None:
        """Send queued frames; then hand over to direct writes, or keep sending, until closed."""
        while not self.closed:
            while self.outbox and not self.closed:
                await self.send_text(self.outbox.popleft().text)
            if self.writer is not None:
                self.direct = True  # nothing queued and no send in flight: order is kept
            self.wakeup.clear()
            if not self.outbox and not self.closed:
                await self.wakeup.wait()


RECENT_KEYS = 50_000
N = TypeVar("N", bound=Notice)


class Hub:
    def __init__(self) -> None:
        self._streams: dict[str, set[Connection]] = {}
        self._users: dict[int, set[Connection]] = {}
        self._recent_keys: set[str] = set()
        self._recent_order: deque[str] = deque()
        self.delivered = 0
        self.last_message_id = 0
        self._listeners: dict[type[Notice], list[Callable[[Any], None]]] = {}
        self.fanout = Summary()

    @property
    def connection_count(self) -> int:
        return sum(len(connections) for connections in self._users.values())

    def connections(self) -> list[Connection]:
        return [c for connections in self._users.values() for c in connections]

    def connections_of(self, user_id: int) -> tuple[Connection, ...]:
        return tuple(self._users.get(user_id, ()))

    def attach(self, connection: Connection, streams: list[str]) -> None:
        self._users.setdefault(connection.user_id, set()).add(connection)
        for stream in streams:
            self.subscribe(connection, stream)

    def subscribe(self, connection: Connection, stream: str) -> None:
        connection.streams.add(stream)
        self._streams.setdefault(stream, set()).add(connection)

    def unsubscribe(self, connection: Connection, stream: str) -> None:
        connection.streams.discard(stream)
        listeners = self._streams.get(stream)
        if listeners is not None:
            listeners.discard(connection)
            if not listeners:
                del self._streams[stream]

    def detach(self, connection: Connection) -> None:
        for stream in list(connection.streams):
            self.unsubscribe(connection, stream)
        user_connections = self._users.get(connection.user_id)
        if user_connections is not None:
            user_connections.discard(connection)
            if not user_connections:
                del self._users[connection.user_id]

    def has_streams(self) -> set[str]:
        return set(self._streams)

    def deliver(self, envelope: Envelope) -> None:
        if envelope.key is not None and self._seen(envelope.key):
            return
        message_id = envelope.message_id or 0
        self.last_message_id = max(self.last_message_id, message_id)
        for control in envelope.controls:
            control.apply(self)
        listeners = self._streams.get(envelope.stream)
        if not listeners:
            return
        started = time.perf_counter()
        frame = Frame(envelope.frame, message_id)
        staff_frame = (
            Frame(envelope.staff_frame, message_id) if envelope.staff_frame is not None else frame
        )
        for connection in tuple(listeners):
            connection.push(staff_frame if connection.staff else frame, message_id)
        self.delivered += len(listeners)
        self.fanout.observe(time.perf_counter() - started)

    def _seen(self, key: str) -> bool:
        """Whether this event was delivered already (it may arrive twice during failover)."""
        if key in self._recent_keys:
            return True
        self._recent_keys.add(key)
        self._recent_order.append(key)
        if len(self._recent_order) > RECENT_KEYS:
            self._recent_keys.discard(self._recent_order.popleft())
        return False

    def broadcast(self, text: str) -> None:
        """Send a frame to every local socket (e.g. the live-update status)."""
        frame = Frame(text)
        for connection in self.connections():
            connection.push(frame)

    def apply_at_publish(self, envelopes: list[Envelope]) -> None:
        """Apply now the controls marked ``at_publish``; the rest, and these again, apply
        when the envelopes come back through the broker."""
        for envelope in envelopes:
            for control in envelope.controls:
                if control.at_publish:
                    control.apply(self)

    def on(self, kind: type[N], listener: Callable[[N], None]) -> None:
        """Call ``listener`` with every notice of ``kind`` this hub receives."""
        self._listeners.setdefault(kind, []).append(listener)

    def notify(self, notice: Notice) -> None:
        for listener in self._listeners.get(type(notice), ()):
            listener(notice)

    def subscribe_user(self, user_id: int, stream: str) -> None:
        for connection in self._users.get(user_id, ()):
            self.subscribe(connection, stream)

    def unsubscribe_user(self, user_id: int, stream: str) -> None:
        for connection in self._users.get(user_id, ()):
            self.unsubscribe(connection, stream)

    def close_session(self, user_id: int, session_id: int) -> None:
        """Close the user's sockets of that session, as logged out."""
        for connection in tuple(self._users.get(user_id, ())):
            if connection.session_id == session_id:
                connection.close(CLOSE_SESSION_ENDED)

    def close_expired(self, now: datetime) -> int:
        """Close sockets whose session has reached its absolute lifetime (as a logout)."""
        expired = [c for c in self.connections() if c.ends_at is not None and c.ends_at <= now]
        for connection in expired:
            connection.close(CLOSE_SESSION_ENDED)
        return len(expired)

    def close_idle(self, older_than: float) -> int:
        """Close sockets that have sent nothing (not even a heartbeat) since ``older_than``."""
        idle = [c for c in self.connections() if c.last_inbound < older_than]
        for connection in idle:
            connection.close(CLOSE_IDLE)
        return len(idle)
