from __future__ import annotations

from datetime import datetime
from functools import cache

from pydantic import BaseModel, Field

MAX_BODY_LENGTH = 10_000


class AuthorOut(BaseModel):
    id: int
    username: str
    display_name: str


class BranchRef(BaseModel):
    id: int
    name: str


AUTHOR_ONLY = {"audience": "author"}
STAFF_ONLY = {"audience": "staff"}


class MessageOut(BaseModel):
    """A message as clients see it: the one declared shape for HTTP answers, history pages
    and stream events. A field marked ``AUTHOR_ONLY`` or ``STAFF_ONLY`` is withheld from
    everyone else by one rule (``withheld_fields``), in answers and events alike."""

    id: int
    room_id: int
    client_id: str | None = Field(
        default=None,
        description="Only in your own messages: the client id you posted it with. "
        "Never shown to others, and absent from stream events.",
        json_schema_extra=AUTHOR_ONLY,
    )
    author: AuthorOut
    branch: BranchRef = Field(description="The author's branch when the message was posted.")
    body: str
    body_html: str
    created_at: datetime
    client_ip: str | None = Field(
        default=None,
        description="Only shown to managers and administrators.",
        json_schema_extra=STAFF_ONLY,
    )


@cache
def withheld_fields(*, staff: bool, author: bool) -> frozenset[str]:
    """The MessageOut fields a viewer may not see: author-only ones unless it is their own
    message, staff-only ones unless they are a manager or administrator."""
    allowed = {"author": author, "staff": staff}
    return frozenset(
        name
        for name, field in MessageOut.model_fields.items()
        if isinstance(field.json_schema_extra, dict)
        and not allowed.get(str(field.json_schema_extra.get("audience")), True)
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
