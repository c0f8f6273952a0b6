from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from counterline.db import Base, UtcDateTime, utcnow

MAX_TERM_LENGTH = 32

# The indexes themselves (migrations 0008 and 0017) differ per database and are no models:
# SQLite's FTS5 tables and their shadow tables, PostgreSQL's tsvector tables.
INDEX_TABLES = frozenset(
    f"{index}{shadow}"
    for index in ("message_search", "document_search")
    for shadow in ("", "_config", "_content", "_data", "_docsize", "_idx")
)


class SearchTerm(Base):
    """A business term of the custom dictionary (``counterline.segmenter``): kept whole as
    one search term, so ranking prefers messages where it appears as a word."""

    __tablename__ = "search_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(MAX_TERM_LENGTH), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
