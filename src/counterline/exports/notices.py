"""A notice's compliance record as a file (GET /api/v1/notices/{id}/compliance/export): one row
per person in its audience, as CSV or XLSX, written like every record export (formats.py).
Here rather than in notices/, which the app's wiring imports (its reminder jobs): exports
reaches the routes' wiring through search and deps."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from counterline.api_errors import error_responses
from counterline.audit.actions import record
from counterline.deps import ClientIp, ServicesDep
from counterline.exports.formats import (
    ExportFormat,
    csv_chunks,
    file_chunks,
    sheet_title,
    xlsx_file,
)
from counterline.exports.routes import refuse_cross_site
from counterline.i18n import N_, gettext
from counterline.ids import Id
from counterline.notices import actions
from counterline.notices.routes import Publisher
from counterline.uploads.download import content_disposition

router = APIRouter(tags=["notices"])
FormatParameter = Annotated[
    Literal["csv", "xlsx"], Query(alias="format", description="`csv` (UTF-8 with BOM) or `xlsx`.")
]


EXPORT_HEADERS = (
    N_("Display name"),
    N_("Username"),
    N_("Branch"),
    N_("Role"),
    N_("In the audience since"),
    N_("Acknowledged or answered"),
    N_("Completed"),
    N_("Client address"),
    N_("Score"),
    N_("Attempts"),
    N_("Done"),
)
EXPORT_WIDTHS = (12, 14, 16, 10, 18, 18, 18, 16, 8, 8, 8)


@router.get(
    "/notices/{notice_id}/compliance/export",
    response_class=Response,
    responses={
        200: {
            "description": "The compliance record as a file: one row per person in the "
            "audience (name, username, branch and role as in the audience, since when, "
            "acknowledged or answered, completed, client address, last score, attempts, done).",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                ExportFormat.xlsx.media_type: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **error_responses(401, 403, 404, 422),
    },
)
async def export_compliance(
    notice_id: Id,
    request: Request,
    identity: Publisher,
    services: ServicesDep,
    ip: ClientIp,
    file_format: FormatParameter = "csv",
) -> Response:
    """A notice's compliance record as CSV or XLSX (managers: their branch). Audited."""
    refuse_cross_site(request)
    async with services.transaction() as unit:
        notice, rows = await actions.export_rows(unit, identity.user, notice_id)
        record(
            unit,
            "record.exported",
            actor_id=identity.user.id,
            target=f"notice:{notice.id}",
            client_ip=ip,
            format=file_format,
            rows=len(rows),
            scope="notice compliance",
        )
    zone = services.site.zone
    done, not_done = gettext("Yes"), gettext("No")
    table = [_export_row(row, zone, done, not_done) for row in rows]
    headers = [gettext(header) for header in EXPORT_HEADERS]
    kind = ExportFormat(file_format)
    name = f"{notice.title}-{gettext('compliance')}.{file_format}"
    response_headers = {
        "content-disposition": content_disposition(name),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "x-export-rows": str(len(table)),
    }

    async def batches() -> Any:
        yield table

    if kind == ExportFormat.csv:
        return StreamingResponse(
            csv_chunks(headers, batches()), media_type=kind.media_type, headers=response_headers
        )
    spool = await xlsx_file(sheet_title(notice.title), headers, EXPORT_WIDTHS, batches())
    return StreamingResponse(
        file_chunks(spool), media_type=kind.media_type, headers=response_headers
    )


def _export_row(row: list, zone: object, done: str, not_done: str) -> list[object]:
    name, username, branch, role, added, answered, completed, address, score, attempts = row
    return [
        name,
        username,
        branch,
        role,
        *(_local(at, zone) for at in (added, answered, completed)),
        address or "",
        "" if score is None else score,
        attempts,
        done if completed else not_done,
    ]


def _local(at: object, zone: object) -> str:
    if at is None:
        return ""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[attr-defined]
