from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow

MAX_TERM_LENGTH = 32

# The index itself (migration 0008) differs per database and is no model: SQLite's FTS5
# table and its shadow tables, PostgreSQL's tsvector table.
INDEX_TABLES = frozenset(
    {
        "message_search",
        "message_search_config",
        "message_search_content",
        "message_search_data",
        "message_search_docsize",
        "message_search_idx",
    }
)


class SearchTerm(Base):
    """A business term of the custom dictionary (``counterline.segmenter``): kept whole as
    one search term, so ranking prefers messages where it appears as a word."""

    __tablename__ = "search_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(MAX_TERM_LENGTH), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
