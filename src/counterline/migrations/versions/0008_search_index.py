"""search index of messages and the custom dictionary

``message_search`` holds each message's search terms (``counterline.segmenter``, written by
``messages.indexing``); it is no model because it differs per database:

- SQLite: an FTS5 table, rowid = message id, one column of terms joined by spaces.
  ``detail=none`` (no positions: queries are AND/OR of whole terms) and ``columnsize=0``
  (no BM25: ranking runs in Python over a bounded candidate set) keep it small. The
  tokenizer keeps every term one token: ``-_./`` are token characters (``b1e-0d7`` is one
  token, never ``b1e-0d8``), nothing is folded but case (``remove_diacritics 0``), and
  characters newer than SQLite's Unicode tables (category Cn) count as letters.
- PostgreSQL: ``(message_id, room_id, terms tsvector)`` filled with ``array_to_tsvector``
  (lexemes exactly as given), a GIN index for rare terms and a (room_id, message_id) index
  so a common term in one room is found walking newest first.

``search_terms`` is the custom dictionary (business terms kept whole); an index on
messages (author_id, id) lists someone's messages newest first (``from:``). Existing
messages are indexed in batches.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 06:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db
from counterline.messages.indexing import rebuild_index

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE message_search USING fts5(terms, detail=none, columnsize=0, "
    "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* Co Cn' tokenchars '-_./'\")"
)
TERM_STATISTICS = 2000
POSTGRESQL_INDEX = (
    """
    CREATE TABLE message_search (
        message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        room_id integer NOT NULL,
        terms tsvector NOT NULL
    )
    """,
    "CREATE INDEX ix_message_search_terms ON message_search USING gin (terms)",
    "CREATE INDEX ix_message_search_room_id_message_id ON message_search (room_id, message_id)",
    # The planner walks the newest messages for a common term and asks the GIN index for a
    # rare one; it tells them apart by the terms' statistics. The default keeps too few
    # terms: a term it has not kept is guessed common, and a search for it walks everything.
    f"ALTER TABLE message_search ALTER COLUMN terms SET STATISTICS {TERM_STATISTICS}",
)


def upgrade() -> None:
    op.create_table(
        "search_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", counterline.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_search_terms_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_terms")),
        sa.UniqueConstraint("term", name=op.f("uq_search_terms_term")),
    )
    op.create_index("ix_messages_author_id_id", "messages", ["author_id", "id"])
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        for statement in POSTGRESQL_INDEX:
            op.execute(statement)
    else:
        op.execute(SQLITE_INDEX)
    rebuild_index(connection)
    if connection.dialect.name == "postgresql":
        op.execute("ANALYZE message_search")


def downgrade() -> None:
    op.execute("DROP TABLE message_search")
    op.drop_index("ix_messages_author_id_id", table_name="messages")
    op.drop_table("search_terms")
