"""The fan-out baseline: a bare server on the ``websockets`` library.

It speaks just enough of Counterline's stream protocol for the same clients: a socket on
``/api/v1/stream`` with ``Authorization: Bearer <token>`` (tokens from a bench manifest)
joins the rooms its user belongs to and gets ``{"type": "ready"}``; ``{"type": "ping"}``
is answered with ``pong``. A control socket (``X-Bench-Control: 1``) sends
``{"type": "post", ...}``: the server encodes one ``message.posted`` frame shaped like
Counterline's, broadcasts it to the room with ``websockets.broadcast()`` and acks.
No database, no authorisation per message, no HTTP: the floor for the same fan-out.

    python -m bench.baseline_ws --port 9000 --manifest bench/.cache/<key>.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

from bench.manifest import BenchUser, Manifest


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class Baseline:
    def __init__(self, manifest: Manifest) -> None:
        self.users: dict[str, BenchUser] = {u.token: u for u in [manifest.admin, *manifest.users]}
        self.rooms_of: dict[int, list[int]] = {}
        for user in self.users.values():
            rooms = [manifest.company_room_id, user.branch_room_id]
            rooms += [
                room["id"]
                for room in [*manifest.topic_rooms.values(), *manifest.conversations.values()]
                if user.id in room["member_ids"]
            ]
            self.rooms_of[user.id] = rooms
        self.listeners: dict[int, set[ServerConnection]] = {}
        self.next_id = 1

    def check(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/health":
            return connection.respond(HTTPStatus.OK, "ok\n")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token not in self.users:
            return connection.respond(HTTPStatus.FORBIDDEN, "forbidden\n")
        return None

    async def handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        headers = connection.request.headers
        user = self.users[headers["Authorization"].removeprefix("Bearer ").strip()]
        control = headers.get("X-Bench-Control") == "1"
        rooms = [] if control else self.rooms_of[user.id]
        for room_id in rooms:
            self.listeners.setdefault(room_id, set()).add(connection)
        try:
            await connection.send(dumps({"type": "ready", "last_message_id": self.next_id - 1}))
            async for raw in connection:
                data = json.loads(raw)
                kind = data.get("type")
                if kind == "ping":
                    await connection.send('{"type":"pong"}')
                elif kind == "post" and control:
                    await connection.send(self.broadcast(data))
        finally:
            for room_id in rooms:
                self.listeners[room_id].discard(connection)

    def broadcast(self, post: dict[str, Any]) -> str:
        author = self.users[post["token"]]
        message_id = self.next_id
        self.next_id += 1
        frame = dumps(
            {
                "type": "message.posted",
                "stream": f"room:{post['room_id']}",
                "message": {
                    "id": message_id,
                    "room_id": post["room_id"],
                    "author": {
                        "id": author.id,
                        "username": author.username,
                        "display_name": f"柜员{author.username[1:4]}-{author.username[5:]}",
                    },
                    "branch": {"id": author.branch_room_id, "name": "网点000营业厅"},
                    "body": post["body"],
                    "body_html": f"<p>{post['body']}</p>",
                    "created_at": datetime.now(UTC).isoformat(),
                },
            }
        )
        broadcast(self.listeners.get(post["room_id"], ()), frame)
        return dumps({"type": "ack", "seq": post["seq"], "id": message_id})


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--manifest", type=Path, required=True)
    args = parser.parse_args()
    baseline = Baseline(Manifest.from_json(args.manifest.read_text()))
    async with serve(
        baseline.handle,
        "127.0.0.1",
        args.port,
        process_request=baseline.check,
        max_size=2**20,
        backlog=4096,
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        from uvloop import run
    except ImportError:
        run = asyncio.run
    run(main())
