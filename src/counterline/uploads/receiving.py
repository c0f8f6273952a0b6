"""An upload's bytes, streamed from the request into a scratch file while they are hashed.

The multipart body is parsed here, a chunk at a time, with python-multipart's streaming
parser: nothing is buffered beyond one chunk, and a file over the limit is refused as soon
as the limit is passed (its scratch file removed), not after it has all arrived.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from counterline.errors import UserError
from counterline.i18n import N_
from counterline.uploads.storage import BlobStore, scratch_file

FIELD = b"file"
MAX_NAME = 255
# What a multipart body adds to the file it carries (boundaries, part headers, a long name).
MULTIPART_OVERHEAD = 64 * 1024
FILE_TOO_LARGE = N_("The file is too large: at most %(max)s MB.")
EMPTY_FILE = N_("The file is empty.")
NO_FILE = N_("Send the file as multipart/form-data, in a field named “file”.")


def megabytes(size: int) -> str:
    return f"{size / (1 << 20):g}"


def too_large(max_bytes: int) -> UserError:
    return UserError(FILE_TOO_LARGE, status_code=413, max=megabytes(max_bytes))


@dataclass(frozen=True, slots=True)
class Received:
    path: Path
    sha256: str
    size: int
    name: str


def clean_name(raw: str) -> str:
    """The name to show: no folders, no control characters, at most 255 characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    # Control and format characters (a right-to-left override can make "exe.txt" of "txt.exe").
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    name = name.strip().lstrip(".")
    name = name or "file"
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_NAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME]
    return name


def _decoded_name(raw: bytes) -> str:
    # Browsers send the name as UTF-8 with ", CR and LF percent-encoded (HTML form encoding).
    text = raw.decode("utf-8", errors="replace")
    return text.replace("%22", '"').replace("%0D", "").replace("%0A", "")


class _FilePart:
    """The parser's callbacks: the part named ``file`` goes to a scratch file, others are
    skipped (the body's size is capped by RequestLimits)."""

    def __init__(self, store: BlobStore, max_bytes: int) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.path: Path | None = None
        self.handle: IO[bytes] | None = None
        self.digest = hashlib.sha256()
        self.size = 0
        self.name = ""
        self.over_limit = False
        self.complete = False
        self._writing = False
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        filename = options.get(b"filename")
        if options.get(b"name") != FIELD or filename is None or self.path is not None:
            return
        self.name = clean_name(_decoded_name(filename))
        self.path, self.handle = scratch_file(self.store)
        self._writing = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._writing or self.handle is None:
            return
        self.size += end - start
        if self.size > self.max_bytes:
            self.over_limit = True
            self._writing = False
            return
        chunk = data[start:end]
        self.digest.update(chunk)
        self.handle.write(chunk)

    def on_part_end(self) -> None:
        if self._writing:
            self._writing = False
            self.complete = True

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


async def receive_file(
    content_type: str, body: AsyncIterator[bytes], store: BlobStore, max_bytes: int
) -> Received:
    """Stream the multipart ``body`` into a scratch file: the field ``file``, at most
    ``max_bytes``. The caller owns (and removes) the file it returns."""
    media, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise UserError(NO_FILE, status_code=415)
    part = _FilePart(store, max_bytes)
    parser = MultipartParser(boundary, part.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
            if part.over_limit:
                raise too_large(max_bytes)
        parser.finalize()
        if part.path is None or part.handle is None or not part.complete:
            raise UserError(NO_FILE)
        part.handle.close()
        if part.size == 0:
            raise UserError(EMPTY_FILE)
    except MultipartParseError as error:
        part.discard()
        raise UserError(NO_FILE) from error
    except BaseException:
        part.discard()
        raise
    return Received(part.path, part.digest.hexdigest(), part.size, part.name)
