"""Downloading an upload: its content and its thumbnail, for whoever may see it
(``access.Readers.visible``: the uploader, or whom a capability showing it admits: the
members of a message's room, a notice's readers)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from counterline.accounts.guards import Identified
from counterline.api_errors import error_responses
from counterline.deps import ServicesDep
from counterline.errors import NotFound
from counterline.ids import Id
from counterline.uploads.access import NO_UPLOAD
from counterline.uploads.download import blob_response, head_of
from counterline.uploads.sniffing import picture_type

router = APIRouter(tags=["uploads"])
_DOWNLOAD_ERRORS = error_responses(401, 403, 404, 422)
_FILE = {"description": "The content, as an attachment.", "content": {"*/*": {}}}


@router.get("/uploads/{upload_id}/content", responses={200: _FILE, **_DOWNLOAD_ERRORS})
async def upload_content(upload_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """An upload's content (a picture as stored, without its metadata), with
    `Content-Disposition: attachment` and its original name. For its uploader; once it is
    attached, for the members of the message's room, or for a notice's readers (its
    audience for the current revision, its author and who oversees it)."""
    async with services.reading() as unit:
        upload = await services.uploads.readers.visible(unit, identity.user, upload_id)
    return blob_response(
        services.uploads.store,
        upload.blob_sha256,
        name=upload.name,
        content_type=upload.content_type,
    )


@router.get("/uploads/{upload_id}/thumbnail", responses={200: _FILE, **_DOWNLOAD_ERRORS})
async def upload_thumbnail(upload_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """A picture's thumbnail (JPEG, or PNG when it has transparency; a small picture is its
    own thumbnail), for whoever may download the picture. 404 for files that are not
    pictures."""
    async with services.reading() as unit:
        upload = await services.uploads.readers.visible(unit, identity.user, upload_id)
    if upload.thumb_sha256 is None:
        raise NotFound(NO_UPLOAD)
    store = services.uploads.store
    if upload.thumb_sha256 == upload.blob_sha256:
        content_type = upload.content_type
    else:
        content_type = picture_type(await head_of(store, upload.thumb_sha256)) or "image/jpeg"
    return blob_response(
        store, upload.thumb_sha256, name=f"thumbnail-{upload.name}", content_type=content_type
    )
