"""Receiving an upload: what it is (from its bytes), its stored form, its row."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from counterline.db import Unit
from counterline.uploads.access import Readers
from counterline.uploads.models import Upload
from counterline.uploads.pictures import Picture, clean_picture
from counterline.uploads.receiving import Received
from counterline.uploads.schemas import UploadOut, upload_fields
from counterline.uploads.sniffing import sniff
from counterline.uploads.storage import BlobStore

# Pictures decoded at once per process: each holds its pixels in memory while it is cleaned.
PICTURE_SLOTS = 2
# Worker threads run at this nice value (Linux sets it per thread): cleaning a burst of
# pictures takes the CPU the event loop leaves, so message delivery does not wait for it.
WORKER_NICENESS = 10


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)


def _workers() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(
        PICTURE_SLOTS, thread_name_prefix="uploads", initializer=_lower_priority
    )


@dataclass
class Uploads:
    """What a process needs to take uploads: the store, the size limit, and the worker
    threads that read and clean them off the event loop (``PICTURE_SLOTS`` at a time, at
    a lower priority: a burst of large pictures queues instead of filling the memory or
    delaying messages), and who besides its uploader may download one (``readers``, whose
    rules the capabilities that show uploads add)."""

    store: BlobStore
    max_bytes: int
    workers: ThreadPoolExecutor = field(default_factory=_workers)
    readers: Readers = field(default_factory=Readers)

    def close(self) -> None:
        self.workers.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class Prepared:
    """An upload whose blobs are stored, before its row is written."""

    name: str
    kind: str
    content_type: str
    sha256: str
    size: int
    width: int | None = None
    height: int | None = None
    thumb_sha256: str | None = None
    thumb_width: int | None = None
    thumb_height: int | None = None


async def prepare_upload(uploads: Uploads, received: Received) -> Prepared:
    """Sniff the received file, clean it if it is a picture, store its blobs. The received
    scratch file is gone afterwards, whatever happens."""
    scratch: list[Path] = [received.path]
    try:
        loop = asyncio.get_running_loop()
        sniffed = await loop.run_in_executor(uploads.workers, sniff, received.path, received.name)
        if sniffed.kind != "image":
            await uploads.store.put(received.sha256, received.path)
            return Prepared(
                received.name, sniffed.kind, sniffed.content_type, received.sha256, received.size
            )
        picture: Picture = await loop.run_in_executor(
            uploads.workers,
            clean_picture,
            received.path,
            sniffed.content_type,
            uploads.store.scratch,
        )
        stored, thumbnail = picture.picture, picture.thumbnail or picture.picture
        scratch.append(stored.path)
        scratch.append(thumbnail.path)
        await uploads.store.put(stored.sha256, stored.path)
        if thumbnail is not stored:
            await uploads.store.put(thumbnail.sha256, thumbnail.path)
        return Prepared(
            received.name,
            "image",
            sniffed.content_type,
            stored.sha256,
            stored.size,
            stored.width,
            stored.height,
            thumbnail.sha256,
            thumbnail.width,
            thumbnail.height,
        )
    finally:
        for path in scratch:
            path.unlink(missing_ok=True)


async def record_upload(unit: Unit, uploader_id: int, prepared: Prepared) -> UploadOut:
    upload = Upload(
        uploader_id=uploader_id,
        blob_sha256=prepared.sha256,
        name=prepared.name,
        content_type=prepared.content_type,
        size=prepared.size,
        kind=prepared.kind,
        width=prepared.width,
        height=prepared.height,
        thumb_sha256=prepared.thumb_sha256,
        thumb_width=prepared.thumb_width,
        thumb_height=prepared.thumb_height,
    )
    unit.session.add(upload)
    await unit.session.flush()
    return UploadOut.model_validate(upload_fields(upload))
