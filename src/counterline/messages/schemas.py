from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

MAX_BODY_LENGTH = 10_000


class AuthorOut(BaseModel):
    id: int
    username: str
    display_name: str


class BranchRef(BaseModel):
    id: int
    name: str


class MessageOut(BaseModel):
    id: int
    room_id: int
    client_id: str | None = Field(
        default=None,
        description="Only in your own messages: the client id you posted it with. "
        "Never shown to others, and absent from stream events.",
    )
    author: AuthorOut
    branch: BranchRef = Field(description="The author's branch when the message was posted.")
    body: str
    body_html: str
    created_at: datetime
    client_ip: str | None = Field(
        default=None, description="Only shown to managers and administrators."
    )


class MessagePage(BaseModel):
    messages: list[MessageOut] = Field(description="Oldest first.")
    has_more: bool = Field(description="More messages exist in the direction requested.")


class MessageIn(BaseModel):
    # The limits are enforced by messages.actions.check_body (400, with a clear message);
    # the schema states them. "\S": not only whitespace.
    body: str = Field(
        description="Message text (Markdown subset), 1 to 10,000 characters.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_BODY_LENGTH, "pattern": r"\S"},
    )
    client_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Client-generated id (a UUID); retrying with the same id never duplicates.",
    )
