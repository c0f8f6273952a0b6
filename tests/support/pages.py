"""Reading the server-rendered pages the way a browser's form would."""

from __future__ import annotations

import re

import httpx


def csrf_token_in(page: httpx.Response) -> str:
    """The CSRF token a page's form carries (fails showing the page if there is none)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:2000]
    return found.group(1)
