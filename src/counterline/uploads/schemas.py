from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

UPLOADS_PATH = "/api/v1/uploads"


class UploadOut(BaseModel):
    """A stored upload. ``url`` and ``thumbnail_url`` answer with the content as an
    attachment (an ``<img src>`` still shows a picture inline)."""

    id: int
    name: str = Field(description="The file name as sent (no path), for display.")
    content_type: str = Field(description="Read from the content, not from the name.")
    size: int = Field(description="Bytes stored (a picture: after its metadata was removed).")
    kind: Literal["image", "file"]
    url: str = Field(description="`/api/v1/uploads/{id}/content`.")
    thumbnail_url: str | None = Field(
        description="`/api/v1/uploads/{id}/thumbnail` for pictures, null for other files."
    )
    width: int | None = Field(description="Pictures: width in pixels.")
    height: int | None = Field(description="Pictures: height in pixels.")
    thumb_width: int | None = Field(description="Pictures: the thumbnail's width.")
    thumb_height: int | None = Field(description="Pictures: the thumbnail's height.")


def upload_fields(upload: Any) -> dict[str, Any]:
    """An ``Upload`` (or a row with its columns) in UploadOut's shape."""
    base = f"{UPLOADS_PATH}/{upload.id}"
    return {
        "id": upload.id,
        "name": upload.name,
        "content_type": upload.content_type,
        "size": upload.size,
        "kind": upload.kind,
        "url": f"{base}/content",
        "thumbnail_url": f"{base}/thumbnail" if upload.thumb_sha256 else None,
        "width": upload.width,
        "height": upload.height,
        "thumb_width": upload.thumb_width,
        "thumb_height": upload.thumb_height,
    }
