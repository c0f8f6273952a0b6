"""The JSON export's shape, for the API reference (the export itself is streamed, not
built from these models: exports/actions.py message_json writes the same fields)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from counterline.rooms.models import RoomKind


class PersonOut(BaseModel):
    id: int
    username: str
    display_name: str


class NamedOut(BaseModel):
    id: int
    name: str


class ExportedRoomOut(NamedOut):
    kind: RoomKind


class EarlierVersionOut(BaseModel):
    action: str = Field(description="`edited` or `deleted`.")
    earlier_body: str = Field(description="The text as it was before this change.")
    editor: PersonOut
    editor_ip: str
    time: str = Field(description="When the change was made (ISO 8601, site time zone).")


class RecordMessageOut(BaseModel):
    id: int
    time: str = Field(description="When it was posted (ISO 8601, site time zone).")
    room: NamedOut
    author: PersonOut
    branch: NamedOut = Field(description="The author's branch when the message was posted.")
    client_ip: str
    body: str = Field(description="The text as typed (the current version).")
    attachments: list[str] = Field(description="Attachment file names, in order.")
    edited_at: str | None
    deleted_at: str | None
    deleted_by: PersonOut | None
    edits: list[EarlierVersionOut] = Field(description="Every earlier version, oldest first.")


class ExportFilters(BaseModel):
    after: str | None = Field(description="From the start of this day (YYYY-MM-DD).")
    before: str | None = Field(description="Up to the start of this day (YYYY-MM-DD).")


class RoomExportOut(BaseModel):
    room: ExportedRoomOut
    filters: ExportFilters
    exported_at: str
    exported_by: PersonOut
    message_count: int
    messages: list[RecordMessageOut] = Field(description="Oldest first, deleted ones included.")


class SearchAsked(BaseModel):
    """The search as it was asked (`GET /api/v1/search` parameters)."""

    q: str
    room: int | None
    author: str | None
    branch: int | None
    after: str | None
    before: str | None
    has: str | None
    mentions_me: bool
    from_me: bool


class SearchExportOut(BaseModel):
    query: SearchAsked
    exported_at: str
    exported_by: PersonOut
    message_count: int
    truncated: bool = Field(description="The search found more than the 10,000 exported.")
    messages: list[RecordMessageOut] = Field(description="Oldest first.")
