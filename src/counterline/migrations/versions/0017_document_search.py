"""document search: one search index for documents of every kind (notices, FAQ entries)

``document_search`` holds each document's search terms (``counterline.segmenter``, written
by ``search.documents``), keyed by (kind, ref_id); like ``message_search`` (0008) it is no
model because it differs per database:

- SQLite: an FTS5 table ``(kind UNINDEXED, ref_id UNINDEXED, terms)``, the terms joined by
  spaces, with ``message_search``'s tokenizer (each term one token). Positions and column
  sizes are kept (FTS5's defaults): documents are few, and ``bm25`` ranks them.
- PostgreSQL: ``(kind, ref_id, terms tsvector)`` filled with ``array_to_tsvector`` (lexemes
  exactly as given), primary key (kind, ref_id), a GIN index on the terms.

The notices there are now (not archived) are indexed under their title and body; FAQ
entries are indexed by their own capability as they are written.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 12:40:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from counterline.segmenter import index_terms

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE document_search USING fts5(kind UNINDEXED, ref_id UNINDEXED, terms, "
    "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* Co Cn' tokenchars '-_./'\")"
)
POSTGRESQL_INDEX = (
    """
    CREATE TABLE document_search (
        kind varchar(16) NOT NULL,
        ref_id bigint NOT NULL,
        terms tsvector NOT NULL,
        CONSTRAINT pk_document_search PRIMARY KEY (kind, ref_id)
    )
    """,
    "CREATE INDEX ix_document_search_terms ON document_search USING gin (terms)",
)
_NOTICES = text("SELECT id, title, body FROM notices WHERE archived = :no ORDER BY id")
_INSERT = {
    "sqlite": text(
        "INSERT INTO document_search (kind, ref_id, terms) VALUES ('notice', :ref_id, :terms)"
    ),
    "postgresql": text(
        "INSERT INTO document_search (kind, ref_id, terms) "
        "VALUES ('notice', :ref_id, array_to_tsvector(:terms))"
    ).bindparams(bindparam("terms", type_=ARRAY(Text))),
}


def upgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        for statement in POSTGRESQL_INDEX:
            op.execute(statement)
    else:
        op.execute(SQLITE_INDEX)
    rows = []
    for notice_id, title, body in connection.execute(_NOTICES, {"no": False}):
        terms = index_terms(f"{title}\n{body}")
        if terms:
            value = " ".join(terms) if dialect == "sqlite" else terms
            rows.append({"ref_id": notice_id, "terms": value})
    if rows:
        connection.execute(_INSERT[dialect], rows)


def downgrade() -> None:
    op.execute("DROP TABLE document_search")
