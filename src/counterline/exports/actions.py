"""Record exports: who may export what, the audit entry written before any data leaves, and
the rows of the record as JSON objects and as spreadsheet rows. The record of a room, or of
what a search finds.

A room's export is every message posted in it (deleted ones included: they are part of the
record) with its author, the author's branch when it was posted, the client address, the
text as typed, attachment names, and each earlier version. Managers and administrators
export rooms they are members of; administrators any room, conversations included: the
only way anyone outside a conversation reads it, and it is on the audit log.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from counterline.accounts import policy
from counterline.accounts.models import User
from counterline.audit.actions import record
from counterline.days import start_of
from counterline.db import Unit, utcnow
from counterline.errors import Forbidden, NotFound, UserError
from counterline.exports import queries
from counterline.exports.formats import XLSX_MAX_ROWS, ExportFormat
from counterline.exports.queries import PersonRow, RecordRow, Span
from counterline.i18n import N_, gettext
from counterline.messages.actions import FIRST_DAY
from counterline.rooms.actions import NOT_A_MEMBER
from counterline.rooms.models import Room
from counterline.rooms.queries import find_room, is_member
from counterline.search.actions import SearchQuery, search_all

BATCH_SIZE = 500
# A search result exports at most this many messages (the newest matches); the response
# says so (X-Export-Limit, X-Export-Truncated) and so does the audit entry.
SEARCH_EXPORT_LIMIT = 10_000
SEARCH_RESULTS = N_("Search results")
ONLY_STAFF_EXPORT = N_("Only managers and administrators can export the record.")
DAYS_OUT_OF_ORDER = N_("The start day (after) must come before the end day (before).")
TOO_MANY_FOR_A_SHEET = N_(
    "An Excel sheet holds at most %(max)s rows and this export has %(rows)s: choose CSV or "
    "JSON, or fewer days."
)
EXPORTED = "record.exported"

Reading = Callable[[], AbstractAsyncContextManager[Unit]]

# The spreadsheet columns (CSV and XLSX): header msgid and width in characters.
COLUMNS: tuple[tuple[str, int], ...] = (
    (N_("Message id"), 10),
    (N_("Time"), 26),
    (N_("Room"), 18),
    (N_("Username"), 14),
    (N_("Author"), 12),
    (N_("Branch"), 14),
    (N_("Client IP"), 16),
    (N_("Message text"), 60),
    (N_("Attachments"), 24),
    (N_("Edited at"), 26),
    (N_("Deleted at"), 26),
    (N_("Deleted by"), 14),
    (N_("Changes"), 9),
    (N_("Earlier versions"), 60),
)
# An earlier version in the spreadsheet's "Earlier versions" cell, by what was done to it.
_EARLIER_VERSIONS = {
    "edited": N_(
        "[%(number)s] %(time)s, edited by %(editor)s (%(username)s) from %(ip)s. "
        "Text before: %(body)s"
    ),
    "deleted": N_(
        "[%(number)s] %(time)s, deleted by %(editor)s (%(username)s) from %(ip)s. "
        "Text before: %(body)s"
    ),
}


@dataclass(frozen=True, slots=True)
class Days:
    """A range of days in the site's time zone: from the start of ``after`` (included) to
    the start of ``before`` (not included); either may be open."""

    after: date | None = None
    before: date | None = None

    def check(self) -> Days:
        for day in (self.after, self.before):
            if day is not None and day < FIRST_DAY:
                raise UserError(N_("Choose a day from %(first)s on."), first=FIRST_DAY.isoformat())
        if self.after is not None and self.before is not None and self.after >= self.before:
            raise UserError(DAYS_OUT_OF_ORDER)
        return self

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        return start_of(self.after, zone), start_of(self.before, zone)

    def as_filters(self) -> dict[str, str | None]:
        return {
            "after": self.after.isoformat() if self.after else None,
            "before": self.before.isoformat() if self.before else None,
        }


@dataclass(frozen=True, slots=True)
class RoomExport:
    """What one export of a room covers, fixed before it is recorded and sent."""

    room: Room
    days: Days
    span: Span
    zone: ZoneInfo
    exporter_is_member: bool


def check_exporter(viewer: User) -> None:
    if not policy.exports_record(viewer.role):
        raise Forbidden(ONLY_STAFF_EXPORT)


async def plan_room_export(
    unit: Unit, viewer: User, room_id: int, days: Days, zone: ZoneInfo
) -> RoomExport:
    """The room's export for this viewer: a room they are a member of, or (administrators)
    any room. Others get the same 404 as for a room they are not in."""
    check_exporter(viewer)
    days.check()
    room = await find_room(unit.session, room_id)
    member = room is not None and await is_member(unit.session, room_id, viewer.id)
    if room is None or not (member or policy.exports_any_room(viewer.role)):
        raise NotFound(NOT_A_MEMBER)
    start, end = days.bounds(zone)
    span = await queries.span_of_room(unit.session, room.id, start, end)
    return RoomExport(room, days, span, zone, member)


def check_fits(file_format: ExportFormat, rows: int, *, max_rows: int = XLSX_MAX_ROWS) -> None:
    """A sheet has at most a million rows: a larger XLSX export is refused before it is
    recorded (CSV and JSON have no such limit)."""
    if file_format == ExportFormat.xlsx and rows > max_rows:
        raise UserError(TOO_MANY_FOR_A_SHEET, max=f"{max_rows:,}", rows=f"{rows:,}")


def record_room_export(
    unit: Unit, viewer: User, export: RoomExport, file_format: ExportFormat, client_ip: str
) -> None:
    """On the audit log before any row is sent: a download that fails is still on record."""
    record(
        unit,
        EXPORTED,
        actor_id=viewer.id,
        target=f"room:{export.room.id}",
        client_ip=client_ip,
        format=file_format.value,
        rows=export.span.count,
        room_kind=export.room.kind.value,
        exporter_is_member=export.exporter_is_member,
        first_message_id=export.span.first_id,
        last_message_id=export.span.last_id,
        **export.days.as_filters(),
    )


@dataclass(frozen=True, slots=True)
class SearchExport:
    """The messages a search export covers: the newest ``SEARCH_EXPORT_LIMIT`` matches,
    oldest first, and whether there were more."""

    message_ids: list[int]
    truncated: bool


async def plan_search_export(
    unit: Unit, viewer: User, query: SearchQuery, *, limit: int = SEARCH_EXPORT_LIMIT
) -> SearchExport:
    """What the viewer's search finds (only rooms and conversations they are in)."""
    check_exporter(viewer)
    found = await search_all(unit, viewer, query, limit=limit + 1)
    return SearchExport(sorted(found[:limit]), len(found) > limit)


def search_filters(query: SearchQuery) -> dict[str, object]:
    """The search as it was asked, for the audit entry and the JSON export's head."""
    return {
        "q": query.q,
        "room": query.room,
        "author": query.author,
        "branch": query.branch,
        "after": query.after,
        "before": query.before,
        "has": query.has,
        "mentions_me": query.mentions_me,
        "from_me": query.from_me,
    }


def record_search_export(
    unit: Unit,
    viewer: User,
    query: SearchQuery,
    export: SearchExport,
    file_format: ExportFormat,
    client_ip: str,
) -> None:
    record(
        unit,
        EXPORTED,
        actor_id=viewer.id,
        target="search",
        client_ip=client_ip,
        format=file_format.value,
        rows=len(export.message_ids),
        truncated=export.truncated,
        **search_filters(query),
    )


async def room_batches(reading: Reading, export: RoomExport) -> AsyncIterator[list[RecordRow]]:
    """The export's messages oldest first, ``BATCH_SIZE`` at a time, each batch read in a
    short read transaction of its own (none is held while the client downloads)."""
    if export.span.count == 0:
        return
    start, end = export.days.bounds(export.zone)
    after_id = 0
    while True:
        async with reading() as unit:
            rows = await queries.room_batch(
                unit.session, export.room.id, export.span, after_id, start, end, BATCH_SIZE
            )
        if rows:
            yield rows
        if len(rows) < BATCH_SIZE:
            return
        after_id = rows[-1].id


async def id_batches(
    reading: Reading, message_ids: Sequence[int]
) -> AsyncIterator[list[RecordRow]]:
    """The messages of these ids (oldest first), ``BATCH_SIZE`` at a time."""
    ordered = sorted(message_ids)
    for offset in range(0, len(ordered), BATCH_SIZE):
        async with reading() as unit:
            rows = await queries.records_by_ids(unit.session, ordered[offset : offset + BATCH_SIZE])
        if rows:
            yield rows


def local_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 in the site's time zone, to the second (``2026-11-30T09:15:02+08:00``)."""
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


def _person(person: PersonRow | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"id": person.id, "username": person.username, "display_name": person.display_name}


def message_json(row: RecordRow, zone: ZoneInfo) -> dict[str, Any]:
    """A message of the record for the JSON export; texts exactly as stored."""
    return {
        "id": row.id,
        "time": local_time(row.created_at, zone),
        "room": {"id": row.room_id, "name": row.room_name},
        "author": _person(row.author),
        "branch": {"id": row.branch_id, "name": row.branch_name},
        "client_ip": row.client_ip,
        "body": row.body,
        "attachments": list(row.attachments),
        "edited_at": local_time(row.edited_at, zone),
        "deleted_at": local_time(row.deleted_at, zone),
        "deleted_by": _person(row.deleted_by),
        "edits": [
            {
                "action": revision.action,
                "earlier_body": revision.earlier_body,
                "editor": _person(revision.editor),
                "editor_ip": revision.editor_ip,
                "time": local_time(revision.created_at, zone),
            }
            for revision in row.revisions
        ],
    }


@dataclass(frozen=True, slots=True)
class TableWords:
    """The spreadsheet's words in the requester's language, translated once per export
    (rows are written after the route returned)."""

    headers: tuple[str, ...]
    earlier_versions: dict[str, str]

    @classmethod
    def translated(cls) -> TableWords:
        return cls(
            headers=tuple(gettext(header) for header, _ in COLUMNS),
            earlier_versions={action: gettext(text) for action, text in _EARLIER_VERSIONS.items()},
        )


def table_row(row: RecordRow, zone: ZoneInfo, words: TableWords) -> list[object]:
    """A message as one spreadsheet row, COLUMNS in order. Earlier versions are one cell:
    numbered, oldest first, a blank line between them."""
    earlier = "\n\n".join(
        words.earlier_versions.get(revision.action, words.earlier_versions["edited"])
        % {
            "number": number,
            "time": local_time(revision.created_at, zone),
            "editor": revision.editor.display_name,
            "username": revision.editor.username,
            "ip": revision.editor_ip,
            "body": revision.earlier_body,
        }
        for number, revision in enumerate(row.revisions, start=1)
    )
    return [
        row.id,
        local_time(row.created_at, zone),
        row.room_name,
        row.author.username,
        row.author.display_name,
        row.branch_name,
        row.client_ip,
        row.body,
        "\n".join(row.attachments),
        local_time(row.edited_at, zone) or "",
        local_time(row.deleted_at, zone) or "",
        row.deleted_by.username if row.deleted_by else "",
        len(row.revisions),
        earlier,
    ]


def column_widths() -> list[int]:
    return [width for _, width in COLUMNS]


def exporter_json(viewer: User) -> dict[str, Any]:
    return {"id": viewer.id, "username": viewer.username, "display_name": viewer.display_name}


def exported_at(zone: ZoneInfo) -> str:
    return local_time(utcnow(), zone) or ""


def file_name(stem: str, zone: ZoneInfo, file_format: ExportFormat) -> str:
    """``城北营业厅-2026-11-30.xlsx``: the name, today's date in the site's zone, the format;
    characters file systems refuse become ``_``."""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", stem).strip(" .") or "export"
    return f"{safe}-{utcnow().astimezone(zone).date().isoformat()}.{file_format.value}"
