"""Titles of intranet pages linked in messages, fetched by the server only for the hosts
an administrator configured (``link_preview_hosts``): the server never requests an address
a clerk typed unless its host is on that list.

Each process keeps the answers for a while; two tabs asking for the same address at once
cause one request.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

import httpx

MAX_BYTES = 256 * 1024
MAX_TITLE = 200
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LinkTitle:
    url: str
    title: str | None


class HostList:
    """``oa.example.local`` allows that host; ``.example.local`` (or ``*.example.local``)
    allows every host under it too."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._exact: set[str] = set()
        self._suffixes: list[str] = []
        for entry in entries:
            entry = entry.strip().lower().removeprefix("*")
            if entry.startswith("."):
                self._suffixes.append(entry)
                self._exact.add(entry[1:])
            elif entry:
                self._exact.add(entry)

    def __bool__(self) -> bool:
        return bool(self._exact)

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not host:
            return False
        return host in self._exact or any(host.endswith(suffix) for suffix in self._suffixes)


class LinkTitles:
    def __init__(
        self,
        hosts: HostList,
        *,
        timeout: float = 3.0,
        keep_seconds: float = 3600.0,
        max_entries: int = 2000,
    ) -> None:
        self.hosts = hosts
        self._timeout = timeout
        self._keep_seconds = keep_seconds
        self._max_entries = max_entries
        self._known: OrderedDict[str, tuple[float, LinkTitle]] = OrderedDict()
        self._fetching: dict[str, asyncio.Future[LinkTitle]] = {}
        self._client: httpx.AsyncClient | None = None

    async def title_of(self, url: str) -> LinkTitle:
        """The page's title (None when it has none or can't be reached). Only call it for
        an address ``hosts`` allows."""
        if not self.hosts.allows(url):
            raise ValueError("not an allowed host")
        known = self._known.get(url)
        if known is not None and known[0] > time.monotonic():
            self._known.move_to_end(url)
            return known[1]
        if url in self._fetching:
            return await asyncio.shield(self._fetching[url])
        fetching = asyncio.get_running_loop().create_future()
        self._fetching[url] = fetching
        try:
            found = LinkTitle(url, await self._fetch_title(url))
            self._remember(found)
            fetching.set_result(found)
            return found
        finally:
            del self._fetching[url]
            if not fetching.done():
                fetching.cancel()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _remember(self, found: LinkTitle) -> None:
        self._known[found.url] = (time.monotonic() + self._keep_seconds, found)
        self._known.move_to_end(found.url)
        while len(self._known) > self._max_entries:
            self._known.popitem(last=False)

    async def _fetch_title(self, url: str) -> str | None:
        # No redirects: a configured host could otherwise send the server anywhere.
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": "Counterline link preview"},
            )
        try:
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    return None
                if "html" not in response.headers.get("content-type", "text/html"):
                    return None
                head = await _read_at_most(response, MAX_BYTES)
                return title_in(head, response.charset_encoding)
        except httpx.HTTPError:
            return None


async def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit or _TITLE.search(b"".join(chunks)):
            break
    return b"".join(chunks)[:limit]


def title_in(page: bytes, declared_charset: str | None) -> str | None:
    """The text of a page's <title>, decoded by the charset the server or the page declares
    (intranet systems often still serve GBK), else UTF-8, else GB18030."""
    found = _TITLE.search(page)
    if found is None:
        return None
    meta = _META_CHARSET.search(page)
    charsets = [declared_charset, meta.group(1).decode() if meta else None, "utf-8", "gb18030"]
    for charset in filter(None, charsets):
        try:
            text = found.group(1).decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
        title = " ".join(unescape(text).split())
        return title[:MAX_TITLE] or None
    return None
