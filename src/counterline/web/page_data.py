"""Data embedded in pages as <script type="application/json"> blocks."""

from __future__ import annotations

from pydantic_core import to_json

# Outside strings JSON has none of these characters, so escaping them everywhere is exact.
# Without "<" the HTML parser cannot leave the script's data state ("</script", "<!--").
# The markup characters are replaced in the UTF-8 bytes (memchr: a few microseconds for a
# room page's 28,000 characters, against some 30 µs for each one looked for in the str);
# the line and paragraph separators, rare and multi-byte, in the text where there are any.
_MARKUP_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))
_SEPARATOR_ESCAPES = (("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def encode_for_page(data: object) -> str:
    """JSON for a <script type="application/json"> block: no "<", ">" or "&" reaches the
    HTML parser, and the text parses back (JSON.parse) to exactly ``data``."""
    encoded = to_json(data)  # pydantic's encoder: timestamps as the API writes them
    for character, escape in _MARKUP_ESCAPES:
        encoded = encoded.replace(character, escape)
    text = encoded.decode()
    for character, escape in _SEPARATOR_ESCAPES:
        if character in text:
            text = text.replace(character, escape)
    return text
