"""Row ids as the API accepts them: what a signed 64-bit column (SQLite INTEGER,
PostgreSQL BIGINT) can hold. Bounded in the schema, a larger number is refused as a
validation error (422) before it reaches, and overflows in, the database driver."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BeforeValidator

MAX_ID = 2**63 - 1
MAX_ID_DIGITS = len(str(MAX_ID))


def _not_a_boolean(value: object) -> object:
    """JSON ``true`` is no id (pydantic's lax int would take it as 1)."""
    if isinstance(value, bool):
        raise ValueError("an id is a number, not true or false")
    return value


_NO_BOOLEANS = BeforeValidator(_not_a_boolean)
Id = Annotated[int, _NO_BOOLEANS, Ge(1), Le(MAX_ID)]
# A position in a room's history (before/after, the stream's resume point): 0 is "the start".
IdOrZero = Annotated[int, _NO_BOOLEANS, Ge(0), Le(MAX_ID)]


def id_or_zero_of(text: str) -> int | None:
    """``text`` as an IdOrZero if it is one written in ASCII digits, else None.

    ``str.isdigit`` also accepts digits of other scripts ("²", "١"; ``int`` takes the
    second as 1), and neither bounds the length."""
    if not (0 < len(text) <= MAX_ID_DIGITS and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ID else None
