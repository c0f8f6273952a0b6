from __future__ import annotations

from fastapi import APIRouter, Request, Response

from counterline.accounts.guards import Identified
from counterline.api_errors import error_responses
from counterline.deps import ServicesDep
from counterline.responses import json_of
from counterline.uploads.actions import prepare_upload, record_upload
from counterline.uploads.receiving import receive_file
from counterline.uploads.schemas import UploadOut

router = APIRouter(tags=["uploads"])

_MULTIPART_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/uploads",
    status_code=201,
    response_model=UploadOut,
    responses=error_responses(400, 401, 403, 408, 413, 415),
    openapi_extra=_MULTIPART_BODY,
)
async def upload_file(request: Request, identity: Identified, services: ServicesDep) -> Response:
    """Upload a picture (PNG, JPEG, GIF, WebP) or a file (PDF, Office document, CSV, plain
    text) as the multipart field `file`, at most the server's upload limit (10 MB by
    default; the admin console may change it). The type is read from the content;
    pictures are stored without their metadata. Attach the answer's `id` to a message
    (`attachments` of `POST /api/v1/rooms/{room_id}/messages`); until then only you can
    download it."""
    uploads = services.uploads
    limit = services.site.max_upload_bytes  # the console's, else the config file's
    received = await receive_file(
        request.headers.get("content-type", ""), request.stream(), uploads.store, limit
    )
    prepared = await prepare_upload(uploads, received)
    async with services.transaction() as unit:
        upload = await record_upload(unit, identity.user.id, prepared)
    return json_of(upload, 201)
