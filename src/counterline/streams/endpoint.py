"""The WebSocket stream: ``/api/v1/stream?last_message_id=N``.

Protocol (JSON text frames, each with a ``type``):
- server → client: ``message.posted``, ``presence.changed``, ``room.joined``, ``room.left``,
  ``room.opened`` (a new public topic room, to everyone),
  ``session.ended``, ``ready`` (after catch-up: ``last_message_id``, ``online_user_ids``,
  ``live``), ``live`` (``state``: ``ok``, or ``degraded`` while Redis is away),
  ``resync`` (too much was missed: reload history), ``pong``, ``error``.
- client → server: ``{"type": "ping"}`` at least every 20 s (heartbeat; browsers send one every
  ``client_ping_seconds``). Anything else gets an ``error`` frame; a binary frame closes
  the socket with 1003, one over ``MAX_INBOUND_BYTES`` with 1009.
On connect the server first sends every message after ``last_message_id`` in the
user's rooms, then live events, each message exactly once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from counterline.deps import find_identity, is_same_origin, language_of_request, services_of
from counterline.errors import UserError
from counterline.i18n import N_, current_language, gettext
from counterline.ids import id_or_zero_of
from counterline.messages.actions import posted_event
from counterline.messages.attachments import with_attachments
from counterline.messages.queries import latest_message_id, list_missed
from counterline.presence.events import PRESENCE_STREAM
from counterline.realtime.events import dumps, user_stream
from counterline.realtime.hub import CLOSE_SESSION_ENDED, Connection, Frame
from counterline.realtime.wire import MAX_INBOUND_BYTES, frame_writer_of
from counterline.rooms.events import ROOMS_STREAM, room_stream
from counterline.rooms.queries import list_room_ids_of
from counterline.services import Services

STREAM_PATH = "/api/v1/stream"
CATCH_UP_PAGE = 500
CATCH_UP_LIMIT = 5_000
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_REQUEST = 1008
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TIMEOUT_SECONDS = 5.0

log = logging.getLogger(__name__)


class StreamEndpoint:
    """Serves ``/api/v1/stream`` ahead of the middlewares and the router.

    A tab holds its stream for hours. Going through FastAPI's router would keep its
    routing frames, dependency results and exit stacks alive for each open socket
    (~11 KiB a socket, measured with tracemalloc; see docs/realtime.md), and each
    middleware its coroutine.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == STREAM_PATH:
            websocket = WebSocket(scope, receive, send)
            current_language.set(language_of_request(websocket))
            await stream(websocket)
        else:
            await self.app(scope, receive, send)


async def stream(websocket: WebSocket) -> None:
    raw_last_id = websocket.query_params.get("last_message_id")
    last_message_id = id_or_zero_of(raw_last_id) if raw_last_id is not None else None
    if raw_last_id is not None and last_message_id is None:
        await _refuse(websocket, N_("last_message_id must be a message id (a whole number)."))
        return
    origin = websocket.headers.get("origin")
    if origin is not None and not is_same_origin(websocket, origin):
        await websocket.close(code=CLOSE_FORBIDDEN)
        return
    connection = await _connection_for(websocket)
    if connection is None:
        await websocket.close(code=CLOSE_FORBIDDEN)
        return
    services = services_of(websocket)
    limit = services.settings.max_streams_per_user
    if len(services.hub.connections_of(connection.user_id)) >= limit:
        await _refuse(
            websocket,
            N_("Too many connections are open for your account. Close some tabs and try again."),
            status_code=429,
        )
        return
    await websocket.accept()
    await _serve(websocket, services, connection, last_message_id)


async def _connection_for(websocket: WebSocket) -> Connection | None:
    """The hub's view of the caller's socket, or None if they may not open a stream.

    Only the few fields the socket needs are kept: the full identity (ORM objects)
    would otherwise stay in memory as long as the tab is open.
    """
    try:
        identity = await find_identity(websocket)
    except UserError:
        identity = None
    finally:
        if hasattr(websocket.state, "identity"):
            del websocket.state.identity
    if identity is None or identity.user.must_change_password:
        return None
    session = identity.session
    lifetime = timedelta(hours=services_of(websocket).settings.session_absolute_hours)
    return Connection(
        websocket.send_text,
        identity.user.id,
        staff=identity.user.sees_client_ips,
        session_id=session.id if session else None,
        token_id=identity.token_id,
        writer=frame_writer_of(websocket.scope),
        ends_at=session.created_at + lifetime if session else None,
    )


async def _serve(
    websocket: WebSocket, services: Services, connection: Connection, last_message_id: int | None
) -> None:
    user_id = connection.user_id
    streams = [room_stream(room_id) for room_id in await _room_ids(services, user_id)]
    services.hub.attach(connection, [*streams, user_stream(user_id), PRESENCE_STREAM, ROOMS_STREAM])
    services.presence.tab_opened(user_id)
    receiver = asyncio.create_task(_receive(websocket, connection))
    try:
        sent_through = await _catch_up(websocket, services, connection, last_message_id)
        _drop_already_sent(connection, sent_through)
        await websocket.send_text(await _ready_frame(services, user_id, sent_through))
        await connection.drain()  # until either side closes (the receiver closes it on EOF)
    except (WebSocketDisconnect, RuntimeError, OSError):
        connection.close(1006)
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        services.hub.detach(connection)
        services.presence.tab_closed(
            user_id, immediately=connection.close_code == CLOSE_SESSION_ENDED
        )
        await _close(websocket, connection)


async def _close(websocket: WebSocket, connection: Connection) -> None:
    """Close with the connection's code; a peer too slow to take even the close frame
    (its unsent data fills the socket) is cut off after a few seconds."""
    try:
        await asyncio.wait_for(websocket.close(code=connection.close_code), CLOSE_TIMEOUT_SECONDS)
    except TimeoutError:
        if connection.writer is not None:
            connection.writer.abort()
    except Exception:  # already closed by the peer or the server
        return


async def _refuse(websocket: WebSocket, problem: str, status_code: int = 400) -> None:
    """Answer the handshake with an HTTP error and a JSON body, where the server can."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        error = JSONResponse({"error": gettext(problem)}, status_code=status_code)
        await websocket.send_denial_response(error)
    else:
        await websocket.close(code=CLOSE_BAD_REQUEST)


async def _ready_frame(services: Services, user_id: int, sent_through: int | None) -> str:
    """The frame that ends the catch-up. Built here, not in _serve: its online list (up to
    tens of kilobytes) must not stay alive in _serve's frame while the tab is open."""
    last_id = sent_through if sent_through is not None else await _latest_id(services)
    online = services.presence.online_ids_json(including=user_id)  # already JSON
    live = "ok" if services.broker.healthy else "degraded"
    return (
        f'{{"type":"ready","last_message_id":{last_id},"online_user_ids":{online},"live":"{live}"}}'
    )


# Reads in functions of their own: a unit bound in _serve's frame would keep its
# database session alive as long as the socket.
async def _room_ids(services: Services, user_id: int) -> list[int]:
    async with services.reading() as unit:
        return await list_room_ids_of(unit.session, user_id)


async def _latest_id(services: Services) -> int:
    async with services.reading() as unit:
        return await latest_message_id(unit.session)


async def _catch_up(
    websocket: WebSocket, services: Services, connection: Connection, after: int | None
) -> int | None:
    """Send what the client missed; returns the id it has now seen through.

    Without ``last_message_id`` nothing is replayed and None is returned.
    """
    if after is None:
        return None
    sent = 0
    async with services.reading() as unit:
        while True:
            rows = await list_missed(
                unit.session, connection.user_id, after, CATCH_UP_PAGE, staff=connection.staff
            )
            rows = await with_attachments(unit.session, rows)
            for message in rows:
                event = posted_event(message)
                await websocket.send_text(event.envelope().frame_for(connection.staff))
                after = message.id
            sent += len(rows)
            if len(rows) < CATCH_UP_PAGE:
                return after
            if sent >= CATCH_UP_LIMIT:
                await websocket.send_text(dumps({"type": "resync"}))
                return await latest_message_id(unit.session)


def _drop_already_sent(connection: Connection, sent_through: int | None) -> None:
    """Live frames buffered during catch-up, or arriving later, may repeat messages just
    sent from the database: drop those now and have the connection skip them later."""
    if sent_through is None:
        return
    connection.skip_through = sent_through
    kept = [frame for frame in connection.outbox if not 0 < frame.message_id <= sent_through]
    connection.outbox.clear()
    connection.outbox.extend(kept)


async def _receive(websocket: WebSocket, connection: Connection) -> None:
    """Read the client's frames until the socket closes.

    Whatever goes wrong here closes the connection: a receiver that died while the socket
    stayed open would leave pings unanswered and the user "online" until the idle sweep.
    """
    try:
        await _read_frames(websocket, connection)
    except Exception:
        log.exception("stream receiver of user %s failed; closing the socket", connection.user_id)
        connection.close(CLOSE_INTERNAL_ERROR)


async def _read_frames(websocket: WebSocket, connection: Connection) -> None:
    pong = Frame(dumps({"type": "pong"}))
    while not connection.closed:
        try:
            message = await websocket.receive()
        except RuntimeError:  # the socket is already closed
            connection.close(1000)
            return
        if message["type"] == "websocket.disconnect":
            connection.close(1000)
            return
        connection.last_inbound = time.monotonic()
        text = message.get("text")
        if text is None:  # a binary frame: the stream speaks JSON text only
            connection.close(CLOSE_UNSUPPORTED_DATA)
            return
        if len(text) > MAX_INBOUND_BYTES:  # under ASGI servers without a frame size limit
            connection.close(CLOSE_TOO_BIG)
            return
        if _frame_type(text) == "ping":
            connection.push(pong)
        else:
            problem = gettext("Unknown frame: only JSON ping frames are accepted.")
            connection.push(Frame(dumps({"type": "error", "error": problem})))


def _frame_type(text: str) -> object:
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    return frame.get("type") if isinstance(frame, dict) else None
