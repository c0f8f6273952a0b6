"""Data embedded in pages as <script type="application/json"> blocks."""

from __future__ import annotations

import json

# Outside strings JSON has none of these characters, so escaping them everywhere is exact.
# Without "<" the HTML parser cannot leave the script's data state ("</script", "<!--").
_PAGE_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def encode_for_page(data: object) -> str:
    """JSON for a <script type="application/json"> block: no "<", ">" or "&" reaches the
    HTML parser, and the text parses back (JSON.parse) to exactly ``data``."""
    return json.dumps(data, ensure_ascii=False).translate(_PAGE_ESCAPES)
