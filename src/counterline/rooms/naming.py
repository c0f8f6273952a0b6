"""When two room names are the same name: ``name_key``.

Clerks type names on Chinese keyboards that switch between full-width and half-width forms
(``ＡＢＣ`` and ``abc``), with ideographic spaces (U+3000) and stray double spaces; two rooms
whose names differ only so would be told apart by nobody. The key is NFKC (full-width
letters, digits and spaces become their plain forms), then case-folded, NFKC again (folding
can undo the normal form), with runs of whitespace collapsed to one space and the ends
trimmed. Migration 0005 holds a frozen copy of this function: change both or neither.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_KEY_LENGTH = 200  # the column; NFKC may lengthen a 100-character name


def name_key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())
