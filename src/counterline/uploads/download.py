"""Answering with a stored blob: streamed from the store, as an attachment, never sniffed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote

from starlette.responses import FileResponse, Response, StreamingResponse

from counterline.uploads.storage import BlobStore

# The content is addressed by its hash: a URL's bytes never change.
CACHE_CONTROL = "private, max-age=31536000, immutable"
SANDBOX = "default-src 'none'; sandbox"


def content_disposition(name: str) -> str:
    """``attachment`` with the name in RFC 6266 form (``filename*``, UTF-8, so Chinese
    names survive) and an ASCII fallback for old clients."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def blob_response(store: BlobStore, key: str, *, name: str, content_type: str) -> Response:
    headers = {
        "content-disposition": content_disposition(name),
        "x-content-type-options": "nosniff",
        "content-security-policy": SANDBOX,
        "cache-control": CACHE_CONTROL,
        "cross-origin-resource-policy": "same-origin",
    }
    path = store.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=content_type, headers=headers)
    return StreamingResponse(store.open_stream(key), media_type=content_type, headers=headers)


async def head_of(store: BlobStore, key: str, size: int = 16) -> bytes:
    """The first bytes of a blob (to tell a thumbnail's type)."""
    path = store.local_path(key)
    if path is not None:
        return await asyncio.to_thread(_read_head, path, size)
    async for chunk in store.open_stream(key):
        return chunk[:size]
    return b""


def _read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)
