"""Where uploaded content is kept: a content-addressed blob store behind a small interface.

A blob is named by the SHA-256 of its bytes, so a file uploaded twice is stored once.
``LocalBlobStore`` keeps blobs on this machine's disk; an S3-compatible store can implement
the same ``BlobStore`` protocol later (``local_path`` then answers None and downloads stream
through ``open_stream``).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Protocol

CHUNK = 64 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")
# Temporary files older than this in the scratch directory were left by a process that died.
STALE_SCRATCH_SECONDS = 3600


class BlobStore(Protocol):
    """Content-addressed storage: every key is the SHA-256 (hex) of the blob's bytes."""

    @property
    def scratch(self) -> Path:
        """A local directory for files being received, before ``put``."""
        ...

    def prepare(self) -> None:
        """At start (in a worker thread): create what is needed, clear what a dead process
        left in ``scratch``."""
        ...

    async def put(self, key: str, source: Path) -> bool:
        """Store the file at ``source`` (in ``scratch``) under ``key`` and remove ``source``.
        False when the blob was already stored (``source`` is then simply removed)."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None:
        """The blob's size in bytes, None when it is not stored."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A file to send as is (sendfile), when the store is on this machine's disk."""
        ...

    def open_stream(self, key: str) -> AsyncIterator[bytes]:
        """The blob's bytes, a chunk at a time (never the whole blob in memory)."""
        ...


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a SHA-256 key: {key!r}")
    return key


class LocalBlobStore:
    """Blobs at ``<root>/<sha[:2]>/<sha>``, files being received in ``<root>/.incoming`` (a
    dot name, which backups skip). A blob arrives by an atomic rename from the scratch
    directory (same file system), so a reader never sees half a blob, and two processes
    storing the same content both succeed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def scratch(self) -> Path:
        return self.root / ".incoming"

    def prepare(self) -> None:
        """Create the directories; remove temporary files a dead process left behind."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        too_old = time.time() - STALE_SCRATCH_SECONDS
        for leftover in self.scratch.iterdir():
            try:
                if leftover.is_file() and leftover.stat().st_mtime < too_old:
                    leftover.unlink()
            except OSError:
                pass

    def path_of(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    async def put(self, key: str, source: Path) -> bool:
        return await asyncio.to_thread(self._put, key, source)

    def _put(self, key: str, source: Path) -> bool:
        target = self.path_of(key)
        if target.exists():
            source.unlink(missing_ok=True)
            return False
        target.parent.mkdir(exist_ok=True)
        os.chmod(source, 0o644)
        os.replace(source, target)
        return True

    async def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    async def size(self, key: str) -> int | None:
        try:
            return self.path_of(key).stat().st_size
        except FileNotFoundError:
            return None

    def local_path(self, key: str) -> Path | None:
        return self.path_of(key)

    async def open_stream(self, key: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self.path_of(key).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()


def scratch_file(store: BlobStore) -> tuple[Path, IO[bytes]]:
    """A new temporary file in the store's scratch directory, open for writing."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by the caller)
        dir=store.scratch, prefix="upload-", delete=False
    )
    return Path(handle.name), handle


def make_blob_store(root: Path) -> LocalBlobStore:
    return LocalBlobStore(root)
