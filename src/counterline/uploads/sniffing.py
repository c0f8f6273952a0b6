"""What an uploaded file is, read from its bytes (never from its name or declared type).

Accepted: pictures (PNG, JPEG, GIF, WebP), PDF, Office documents (docx/xlsx/pptx and the old
doc/xls/ppt), and text (UTF-8 or GB18030, no NUL) named as text (.txt, .csv, .tsv, .md,
.log, or no extension). Everything else is refused: executables, archives that are not Office
documents, Office documents with macros, MSI installers and other OLE2 files, HTML, SVG, XML,
and scripts (a ``#!`` line, or text named as something else, e.g. a script renamed to .png).
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from counterline.errors import UserError
from counterline.i18n import N_

NOT_ACCEPTED = N_(
    "This type of file is not accepted. Pictures (PNG, JPEG, GIF, WebP), PDF, Office "
    "documents, CSV and plain text only."
)
MACROS_REFUSED = N_("Office documents with macros are not accepted.")
UNSUPPORTED = 415
HEAD = 4096

PNG, JPEG, GIF, WEBP = "image/png", "image/jpeg", "image/gif", "image/webp"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC, XLS, PPT = "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"
TEXT_EXTENSIONS = {"", "txt", "text", "csv", "tsv", "md", "log"}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Stream names in an OLE2 directory (UTF-16LE) that make it a Word, Excel or PowerPoint file.
_OLE2_STREAMS = (
    ("WordDocument".encode("utf-16-le"), DOC),
    ("Workbook".encode("utf-16-le"), XLS),
    ("Book\x00".encode("utf-16-le"), XLS),
    ("PowerPoint Document".encode("utf-16-le"), PPT),
)
_OLE2_MACROS = "_VBA_PROJECT".encode("utf-16-le")
_MARKUP = re.compile(rb"^\s*<(?:!doctype|html|svg|\?xml|script|head|body|iframe|!--)", re.I)


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: str  # "image" or "file"
    content_type: str


def refuse(message: str = NOT_ACCEPTED) -> UserError:
    return UserError(message, status_code=UNSUPPORTED)


def picture_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def sniff(path: Path, declared_name: str) -> Sniffed:
    """The kind and type of the file at ``path``; a 415 ``UserError`` for what is refused.
    Reads at most the whole file once (text), in a worker thread."""
    with path.open("rb") as handle:
        head = handle.read(HEAD)
    picture = picture_type(head)
    if picture is not None:
        return Sniffed("image", picture)
    if b"%PDF-" in head[:1024]:
        return Sniffed("file", PDF)
    if head.startswith(OLE2_MAGIC):
        return Sniffed("file", _ole2_type(path))
    if head.startswith(b"PK\x03\x04"):
        return Sniffed("file", _office_type(path))
    return Sniffed("file", _text_type(path, head, declared_name))


def _ole2_type(path: Path) -> str:
    """Word, Excel or PowerPoint 97-2003, by the streams their directory names; other OLE2
    files (MSI installers, Outlook messages) are refused, and so are macros."""
    found: str | None = None
    macros = False
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            window = tail + chunk
            if found is None:
                found = next((kind for name, kind in _OLE2_STREAMS if name in window), None)
            macros = macros or _OLE2_MACROS in window
            tail = window[-64:]
    if macros:
        raise refuse(MACROS_REFUSED)
    if found is None:
        raise refuse()
    return found


def _office_type(path: Path) -> str:
    """A ZIP is accepted only as an Office Open XML document: ``[Content_Types].xml`` and a
    ``word/``, ``xl/`` or ``ppt/`` part; macro-enabled ones are refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise refuse() from error
    if "[Content_Types].xml" not in names:
        raise refuse()
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise refuse(MACROS_REFUSED)
    tops = {name.split("/", 1)[0] for name in names if "/" in name}
    for top, kind in (("word", DOCX), ("xl", XLSX), ("ppt", PPTX)):
        if top in tops:
            return kind
    raise refuse()


def _text_type(path: Path, head: bytes, declared_name: str) -> str:
    extension = declared_name.rpartition(".")[2].lower() if "." in declared_name else ""
    if extension not in TEXT_EXTENSIONS:
        raise refuse()  # text named as something else: a renamed script, an .svg, an .html
    if head.startswith(b"#!") or _MARKUP.match(head.removeprefix(b"\xef\xbb\xbf")):
        raise refuse()
    charset = next((name for name in ("utf-8", "gb18030") if _decodes(path, name)), None)
    if charset is None:
        raise refuse()
    subtype = {"csv": "csv", "tsv": "tab-separated-values", "md": "markdown"}.get(
        extension, "plain"
    )
    return f"text/{subtype}; charset={charset}"


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
