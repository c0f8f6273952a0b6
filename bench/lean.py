"""The lean reference for reads: a bare Starlette endpoint under uvicorn that reads the newest
50 messages of a room (``before=`` / ``after=`` as the messages API takes them) from the same
SQLite file with the standard ``sqlite3`` module, joined to their authors and branches, and
answers them as JSON in the messages API's shape (client id and IP withheld, as for a clerk).
No session, no membership check, no middleware: what the same rows and JSON cost in plain
Python (``uvicorn bench.lean:app``, ``BENCH_LEAN_DATABASE`` naming the file).
"""

from __future__ import annotations

import json
import os
import sqlite3

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_COLUMNS = (
    "SELECT m.id, m.room_id, u.id, u.username, u.display_name, b.id, b.name, m.body,"
    " m.body_html, m.created_at, m.edited_at, m.mentions"
    " FROM messages m JOIN users u ON u.id = m.author_id"
    " JOIN branches b ON b.id = m.author_branch_id"
    " WHERE m.room_id = ? AND m.deleted_at IS NULL"
)
_NEWEST = _COLUMNS + " ORDER BY m.id DESC LIMIT ?"
_BEFORE = _COLUMNS + " AND m.id < ? ORDER BY m.id DESC LIMIT ?"
_AFTER = _COLUMNS + " AND m.id > ? ORDER BY m.id LIMIT ?"
_connection: sqlite3.Connection | None = None


def _database() -> sqlite3.Connection:
    global _connection
    if _connection is None:
        _connection = sqlite3.connect(os.environ["BENCH_LEAN_DATABASE"], check_same_thread=False)
    return _connection


def _shaped(row: tuple) -> dict:  # type: ignore[type-arg]
    return {
        "id": row[0],
        "room_id": row[1],
        "client_id": None,
        "author": {"id": row[2], "username": row[3], "display_name": row[4]},
        "branch": {"id": row[5], "name": row[6]},
        "body": row[7],
        "html": row[8],
        "body_html": row[8],
        "created_at": row[9],
        "edited_at": row[10],
        "attachments": [],
        "mentions": json.loads(row[11]) if row[11] else [],
        "client_ip": None,
        "deleted_at": None,
    }


async def messages(request: Request) -> Response:
    room_id = int(request.path_params["room_id"])
    before, after = request.query_params.get("before"), request.query_params.get("after")
    limit = 50
    if after is not None:
        rows = _database().execute(_AFTER, (room_id, int(after), limit + 1)).fetchall()
        more, rows = len(rows) > limit, rows[:limit]
    else:
        if before is not None:
            rows = _database().execute(_BEFORE, (room_id, int(before), limit + 1)).fetchall()
        else:
            rows = _database().execute(_NEWEST, (room_id, limit + 1)).fetchall()
        more, rows = len(rows) > limit, rows[:limit][::-1]
    body = json.dumps(
        {"messages": [_shaped(row) for row in rows], "has_more": more},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return Response(body, media_type="application/json")


async def ready(request: Request) -> Response:
    return Response("ready")


app = Starlette(routes=[Route("/", ready), Route("/rooms/{room_id:int}/messages", messages)])
