"""Record exports over the JSON API (docs/api.md, Record export): a room, or what a search
finds, as CSV, XLSX or JSON. Each export is on the audit log before its first byte is sent."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from counterline.accounts import policy
from counterline.accounts.actions import Identity
from counterline.accounts.guards import role_guard
from counterline.api_errors import error_responses
from counterline.deps import ClientIp, ServicesDep
from counterline.errors import Forbidden
from counterline.exports import actions
from counterline.exports.actions import Days, TableWords
from counterline.exports.formats import (
    ExportFormat,
    csv_chunks,
    file_chunks,
    json_chunks,
    sheet_title,
    xlsx_file,
)
from counterline.exports.queries import RecordRow
from counterline.exports.schemas import RoomExportOut, SearchExportOut
from counterline.i18n import N_, gettext
from counterline.ids import Id
from counterline.messages.routes import Day
from counterline.search.routes import SearchParameters
from counterline.uploads.download import content_disposition

router = APIRouter(tags=["exports"])
Exporter = Annotated[
    Identity, Depends(role_guard(policy.EXPORTS_RECORD, actions.ONLY_STAFF_EXPORT))
]
FormatParameter = Annotated[
    ExportFormat,
    Query(alias="format", description="`csv` (UTF-8 with BOM), `xlsx` or `json`."),
]
AfterParameter = Annotated[
    Day | None, Query(description="Only messages from the start of this day (site time zone).")
]
BeforeParameter = Annotated[
    Day | None, Query(description="Only messages before the start of this day (site time zone).")
]
_EXPORT_HEADERS = {
    "Content-Disposition": {
        "description": "`attachment` with the file name in UTF-8 (RFC 5987 `filename*`).",
        "schema": {"type": "string"},
    },
    "X-Export-Rows": {
        "description": "How many messages the file holds.",
        "schema": {"type": "integer"},
    },
}
_FILE_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    ExportFormat.xlsx.media_type: {"schema": {"type": "string", "format": "binary"}},
}

Row = TypeVar("Row")
CROSS_SITE = N_("Request refused: it comes from another site.")


def refuse_cross_site(request: Request) -> None:
    """An export is a GET that writes the audit log: a link on another site must not make a
    manager's browser export a room (on record in their name). Browsers say where a request
    comes from in ``Sec-Fetch-Site``; programs with a bearer token send none."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Forbidden(CROSS_SITE)


async def _mapped(
    batches: AsyncIterable[list[RecordRow]], convert: Callable[[RecordRow], Row]
) -> AsyncIterator[list[Row]]:
    async for rows in batches:
        yield [convert(row) for row in rows]


async def export_response(
    file_format: ExportFormat,
    *,
    title: str,
    head: dict[str, Any],
    batches: AsyncIterable[list[RecordRow]],
    zone: ZoneInfo,
    headers: dict[str, str],
) -> Response:
    """The file ``<title>-<today>.<format>``, streamed: its rows are read a batch at a time
    while it is sent (an XLSX is finished first, in a temporary file)."""
    headers = {
        **headers,
        "content-disposition": content_disposition(actions.file_name(title, zone, file_format)),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
    }
    if file_format == ExportFormat.json:
        rows = _mapped(batches, lambda row: actions.message_json(row, zone))
        return StreamingResponse(
            json_chunks(head, rows), media_type=file_format.media_type, headers=headers
        )
    words = TableWords.translated()
    table = _mapped(batches, lambda row: actions.table_row(row, zone, words))
    if file_format == ExportFormat.csv:
        return StreamingResponse(
            csv_chunks(words.headers, table), media_type=file_format.media_type, headers=headers
        )
    spool = await xlsx_file(sheet_title(title), words.headers, actions.column_widths(), table)
    return StreamingResponse(file_chunks(spool), media_type=file_format.media_type, headers=headers)


@router.get(
    "/rooms/{room_id}/export",
    response_class=Response,
    responses={
        200: {
            "model": RoomExportOut,
            "description": "The record as a file (the JSON form is shown).",
            "headers": _EXPORT_HEADERS,
            "content": _FILE_CONTENT,
        },
        **error_responses(400, 401, 403, 404, 422),
    },
)
async def export_room(
    request: Request,
    room_id: Id,
    identity: Exporter,
    services: ServicesDep,
    ip: ClientIp,
    file_format: FormatParameter = ExportFormat.csv,
    after: AfterParameter = None,
    before: BeforeParameter = None,
) -> Response:
    """Export a room's record (managers and administrators, for rooms they are members of;
    administrators for any room, conversations included): one row per message, oldest
    first, deleted messages included, with author, branch at posting, client address, time,
    attachment names and every earlier version. The export is written to the audit log
    (`record.exported`) before the file is sent."""
    refuse_cross_site(request)
    user = identity.user
    zone = services.site.zone
    async with services.reading() as unit:
        export = await actions.plan_room_export(unit, user, room_id, Days(after, before), zone)
    actions.check_fits(file_format, export.span.count)
    async with services.transaction() as unit:
        actions.record_room_export(unit, user, export, file_format, ip)
    room = export.room
    head = {
        "room": {"id": room.id, "name": room.name, "kind": room.kind.value},
        "filters": export.days.as_filters(),
        "exported_at": actions.exported_at(zone),
        "exported_by": actions.exporter_json(user),
        "message_count": export.span.count,
    }
    return await export_response(
        file_format,
        title=room.name,
        head=head,
        batches=actions.room_batches(services.reading, export),
        zone=zone,
        headers={"x-export-rows": str(export.span.count)},
    )


_SEARCH_EXPORT_HEADERS = {
    **_EXPORT_HEADERS,
    "X-Export-Limit": {
        "description": "The most messages a search export holds (the newest matches).",
        "schema": {"type": "integer"},
    },
    "X-Export-Truncated": {
        "description": "`true` when the search found more messages than the limit.",
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
}


@router.get(
    "/search/export",
    response_class=Response,
    responses={
        200: {
            "model": SearchExportOut,
            "description": "What the search finds, as a file (the JSON form is shown).",
            "headers": _SEARCH_EXPORT_HEADERS,
            "content": _FILE_CONTENT,
        },
        **error_responses(400, 401, 403, 422),
    },
)
async def export_search(
    request: Request,
    query: SearchParameters,
    identity: Exporter,
    services: ServicesDep,
    ip: ClientIp,
    file_format: FormatParameter = ExportFormat.csv,
) -> Response:
    """Export what a search finds (managers and administrators; the same parameters as
    `GET /api/v1/search`, whose `order` and `limit` do not apply here): the newest 10,000
    matches at most, one row per message, oldest first, with the same columns as a room's
    export. `X-Export-Truncated` says whether there were more. Written to the audit log
    (`record.exported`, target `search`) before the file is sent."""
    refuse_cross_site(request)
    user = identity.user
    zone = services.site.zone
    async with services.reading() as unit:
        export = await actions.plan_search_export(unit, user, query)
    async with services.transaction() as unit:
        actions.record_search_export(unit, user, query, export, file_format, ip)
    rows = len(export.message_ids)
    head = {
        "query": actions.search_filters(query),
        "exported_at": actions.exported_at(zone),
        "exported_by": actions.exporter_json(user),
        "message_count": rows,
        "truncated": export.truncated,
    }
    return await export_response(
        file_format,
        title=gettext(actions.SEARCH_RESULTS),
        head=head,
        batches=actions.id_batches(services.reading, export.message_ids),
        zone=zone,
        headers={
            "x-export-rows": str(rows),
            "x-export-limit": str(actions.SEARCH_EXPORT_LIMIT),
            "x-export-truncated": "true" if export.truncated else "false",
        },
    )
