"""Writing a record export as CSV, XLSX or JSON, a batch of rows at a time.

CSV and JSON are streamed: each batch is encoded and sent before the next is read, so a
room of a million messages never sits in memory. XLSX is a zip that can only be finished at
the end: openpyxl's write-only mode spools the rows to a temporary file, which is then sent.

Spreadsheets evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some read a
leading tab or carriage return the same way): a message body such as ``=HYPERLINK(...)``
would run as a formula in the manager's Excel. CSV and XLSX cells starting so get an
apostrophe in front; JSON keeps every text exactly as stored.
"""

from __future__ import annotations

import asyncio
import csv
import enum
import io
import json
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters an XLSX (XML 1.0) cannot hold; openpyxl refuses them rather than dropping them.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_CELL_LIMIT = 32_767  # characters Excel keeps in one cell
XLSX_MAX_ROWS = 1_048_575  # rows of a sheet, below its header row
_SEND_CHUNK = 64 * 1024
UTF8_BOM = "\ufeff"


class ExportFormat(enum.StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.json: "application/json",
}


def neutralise(value: object) -> object:
    """A spreadsheet cell's value that no spreadsheet reads as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_text(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([neutralise(value) for value in row] for row in rows)
    return out.getvalue()


async def csv_chunks(
    headers: Sequence[str], batches: AsyncIterable[Sequence[Sequence[object]]]
) -> AsyncIterator[bytes]:
    """UTF-8 with a byte order mark, which Excel needs to read Chinese as Chinese; CRLF
    line ends (RFC 4180). One chunk per batch."""
    yield (UTF8_BOM + _csv_text([headers])).encode()
    async for rows in batches:
        yield _csv_text(rows).encode()


async def json_chunks(
    head: dict[str, Any], batches: AsyncIterable[Sequence[dict[str, Any]]]
) -> AsyncIterator[bytes]:
    """``head`` with a ``messages`` list, written one batch at a time."""
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    yield f'{opening}{", " if head else ""}"messages": ['.encode()
    first = True
    async for rows in batches:
        if rows:
            encoded = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
            yield (("\n" if first else ",\n") + encoded).encode()
            first = False
    yield b"\n]}\n"


def _xlsx_text(value: object) -> object:
    """A cell's value for openpyxl; an empty text is no cell at all (a third of the cells
    of a typical row, and openpyxl's XML writing is most of an XLSX export's time)."""
    if not isinstance(value, str):
        return value
    if not value:
        return None
    value = _NOT_IN_XML.sub("\ufffd", value)
    if len(value) > XLSX_CELL_LIMIT:
        value = value[: XLSX_CELL_LIMIT - 1] + "…"
    return neutralise(value)


async def xlsx_file(
    sheet_title: str,
    headers: Sequence[str],
    widths: Sequence[int],
    batches: AsyncIterable[Sequence[Sequence[object]]],
) -> IO[bytes]:
    """The workbook in a temporary file, read from the start: one sheet, a bold header row
    (frozen), columns ``widths`` characters wide. The caller closes the file (which deletes
    it). openpyxl takes about 0.1 s per 500 rows: each batch is written in a worker thread,
    so the event loop keeps serving everyone else meanwhile."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_header_cell(sheet, header, bold) for header in headers])
    async for rows in batches:
        await asyncio.to_thread(_append_rows, sheet, rows)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by file_chunks once sent
    try:
        await asyncio.to_thread(workbook.save, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _append_rows(sheet: Any, rows: Sequence[Sequence[object]]) -> None:
    for row in rows:
        sheet.append([_xlsx_text(value) for value in row])


def _header_cell(sheet: Any, header: str, font: Font) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_xlsx_text(header))
    cell.font = font
    return cell


async def file_chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    """A finished file's bytes; the file is closed when they are sent (or the client left)."""
    try:
        while chunk := await asyncio.to_thread(spool.read, _SEND_CHUNK):
            yield chunk
    finally:
        spool.close()


def sheet_title(name: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "export"
    return cleaned[:31]
