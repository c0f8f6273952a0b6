"""The search index of messages (``message_search``), written in the transaction that posts,
edits or deletes a message, so a message is findable as soon as it is acknowledged.

A message is indexed under the terms of its body and its attachments' file names
(``counterline.segmenter``). Deleted messages are not in the index. On SQLite the index is
an FTS5 table whose rowid is the message id and whose one column holds the terms joined by
spaces (its tokenizer reads each term as one token); on PostgreSQL a table of
``(message_id, room_id, terms tsvector)`` filled with ``array_to_tsvector``, which keeps
each term exactly as given. Migration 0008 creates both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from counterline import quick_reads
from counterline.quick_reads import QuickConnection
from counterline.segmenter import index_terms

# (message id, room id, text): what ``index_messages`` indexes.
IndexRow = tuple[int, int, str]
# (message id, room id, terms): the same with its terms computed (``terms_of``).
TermsRow = tuple[int, int, Sequence[str]]

REINDEX_BATCH = 2000

_INSERT = {
    "sqlite": text("INSERT INTO message_search (rowid, terms) VALUES (:message_id, :terms)"),
    "postgresql": text(
        "INSERT INTO message_search (message_id, room_id, terms) "
        "VALUES (:message_id, :room_id, array_to_tsvector(:terms))"
    ).bindparams(bindparam("terms", type_=ARRAY(Text))),
}
_DELETE = {
    "sqlite": text("DELETE FROM message_search WHERE rowid IN :ids").bindparams(
        bindparam("ids", expanding=True)
    ),
    "postgresql": text("DELETE FROM message_search WHERE message_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    ),
}
_CLEAR = text("DELETE FROM message_search")
_MESSAGES_AFTER = text(
    "SELECT id, room_id, body FROM messages WHERE deleted_at IS NULL AND id > :after "
    "ORDER BY id LIMIT :limit"
)
_FILE_NAMES = text(
    "SELECT a.message_id, u.name FROM message_attachments a JOIN uploads u ON u.id = a.upload_id "
    "WHERE a.message_id IN :ids ORDER BY a.message_id, a.position"
).bindparams(bindparam("ids", expanding=True))


def searchable_text(body: str, file_names: Iterable[str] = ()) -> str:
    """What a message is found by: its body and its attachments' names."""
    return "\n".join((body, *file_names))


def terms_of(rows: Iterable[IndexRow]) -> list[TermsRow]:
    """The rows with their terms: pure CPU, so callers run it before taking a lock."""
    return [(message_id, room_id, index_terms(body)) for message_id, room_id, body in rows]


async def index_messages(session: AsyncSession, rows: Iterable[IndexRow]) -> None:
    """Add messages to the index (new ones: ``reindex_messages`` replaces)."""
    await store_terms(session, terms_of(rows))


async def store_terms(session: AsyncSession, rows: Iterable[TermsRow]) -> None:
    """Add messages whose terms are already computed (``terms_of``)."""
    connection = await quick_reads.direct(session)
    await _store(connection, rows)


async def unindex_messages(session: AsyncSession, message_ids: Iterable[int]) -> None:
    """Remove messages from the index (deleted ones)."""
    ids = list(message_ids)
    if ids:
        connection = await session.connection()
        await connection.execute(_DELETE[connection.dialect.name], {"ids": ids})


async def reindex_messages(session: AsyncSession, rows: Iterable[IndexRow]) -> None:
    """Replace the index entries of messages (edited ones)."""
    computed = terms_of(rows)
    await unindex_messages(session, [row[0] for row in computed])
    await store_terms(session, computed)


async def _store(connection: AsyncConnection | QuickConnection, rows: Iterable[TermsRow]) -> None:
    parameters = _parameters(connection.dialect.name, rows)
    if parameters:
        await connection.execute(_INSERT[connection.dialect.name], parameters)


def _parameters(dialect: str, rows: Iterable[TermsRow]) -> list[dict[str, Any]]:
    """Insert parameters; a message without any term (only emoji, say) takes no row."""
    joined = dialect == "sqlite"
    return [
        {
            "message_id": message_id,
            "room_id": room_id,
            "terms": " ".join(terms) if joined else list(terms),
        }
        for message_id, room_id, terms in rows
        if terms
    ]


def rebuild_index(connection: Connection, *, batch: int = REINDEX_BATCH) -> int:
    """Index every message that is not deleted, from scratch, in batches; the number indexed.
    Synchronous, for migration 0008 and ``counterline search reindex`` (through
    ``run_sync``): with a new custom dictionary, old messages get its words as terms."""
    dialect = connection.dialect.name
    connection.execute(_CLEAR)
    after, indexed = 0, 0
    while True:
        messages = connection.execute(_MESSAGES_AFTER, {"after": after, "limit": batch}).all()
        if not messages:
            return indexed
        names: dict[int, list[str]] = defaultdict(list)
        for message_id, name in connection.execute(
            _FILE_NAMES, {"ids": [row.id for row in messages]}
        ):
            names[message_id].append(name)
        rows = [(m.id, m.room_id, searchable_text(m.body, names[m.id])) for m in messages]
        parameters = _parameters(dialect, terms_of(rows))
        if parameters:
            connection.execute(_INSERT[dialect], parameters)
        indexed += len(messages)
        after = messages[-1].id
