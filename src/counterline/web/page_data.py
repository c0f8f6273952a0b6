"""Data embedded in pages as <script type="application/json"> blocks."""

from __future__ import annotations

from pydantic_core import to_json

# Outside strings JSON has none of these characters, so escaping them everywhere is exact.
# Without "<" the HTML parser cannot leave the script's data state ("</script", "<!--").
_PAGE_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def encode_for_page(data: object) -> str:
    """JSON for a <script type="application/json"> block: no "<", ">" or "&" reaches the
    HTML parser, and the text parses back (JSON.parse) to exactly ``data``."""
    encoded = to_json(data).decode()  # pydantic's encoder: timestamps as the API writes them
    # One str.replace per character: a C loop each, six times faster than str.translate
    # with a table (1 ms for a page of 50 messages; bench.http_api, room page).
    for character, escape in _PAGE_ESCAPES:
        encoded = encoded.replace(character, escape)
    return encoded
