from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictBool

from counterline.ids import Id
from counterline.uploads.schemas import UploadOut

MAX_BODY_LENGTH = 10_000
MAX_ATTACHMENTS = 10


class AuthorOut(BaseModel):
    id: int
    username: str
    display_name: str


class BranchRef(BaseModel):
    id: int
    name: str


class AttachmentOut(UploadOut):
    """An upload shown with a message (pictures inline through `thumbnail_url`, files
    as links to `url`), in the order the author attached them."""


class MentionOut(BaseModel):
    """What an ``@token`` of the message resolved to when it was posted."""

    kind: Literal["user", "branch", "role", "all"] = Field(
        description="`user`: a person; `branch`: everyone of a branch in the room; `role`: "
        "everyone with a role in the room; `all`: everyone in the room."
    )
    id: int | None = Field(
        default=None,
        description="The user's id (`user`) or the branch's id (`branch`); "
        "null for `role` and `all`.",
    )
    name: str = Field(
        description="The username (`user`), the branch's name (`branch`), the role "
        "(`clerk`, `trainer`, `manager`, `admin`) or `all`."
    )


def _none_as_empty(value: object) -> object:
    return [] if value is None else value


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
    body: str = Field(description="The source text (Markdown subset).")
    html: str = Field(description="The body rendered to sanitised HTML: show this.")
    body_html: str = Field(
        description="Deprecated: the same as `html`, kept for existing clients.",
        json_schema_extra={"deprecated": True},
    )
    created_at: datetime
    edited_at: datetime | None = Field(
        default=None, description="When the message was last edited; null if never."
    )
    attachments: list[AttachmentOut] = Field(
        default_factory=list, description="Pictures and files shown with the message."
    )
    mentions: Annotated[list[MentionOut], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list,
        description="Who the message mentions (each once), as resolved when it was "
        "posted: is it me (`user`, my id), my branch (`branch`, my branch id), my role "
        "(`role`, my role) or everyone (`all`)?",
    )
    client_ip: str | None = Field(
        default=None,
        description="Only shown to managers and administrators.",
        json_schema_extra=STAFF_ONLY,
    )
    deleted_at: datetime | None = Field(
        default=None,
        description="Only shown to managers and administrators, who see a deleted message "
        "as a tombstone: when it was deleted (null if it is not). Others never see it.",
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


class MessageEditIn(BaseModel):
    # Checked by messages.actions.check_body, as when posting.
    body: str = Field(
        description="The new text (Markdown subset), 1 to 10,000 characters.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_BODY_LENGTH, "pattern": r"\S"},
    )


class MessageVersionOut(BaseModel):
    action: Literal["posted", "edited", "deleted"] = Field(
        description="What made this version: posting, an edit, or the deletion (whose "
        "`body` is the text that was deleted)."
    )
    body: str = Field(description="The text as this change left it.")
    html: str = Field(description="That text rendered to sanitised HTML.")
    editor: AuthorOut = Field(description="Who made the change (for `posted`: the author).")
    created_at: datetime = Field(description="When.")
    client_ip: str = Field(description="From which address.")


class MessageHistory(BaseModel):
    message_id: int
    versions: list[MessageVersionOut] = Field(description="Oldest (the original) first.")


class PreviewIn(BaseModel):
    # Checked by messages.actions.check_body, as when posting.
    body: str = Field(
        description="Message text (Markdown subset), 1 to 10,000 characters.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_BODY_LENGTH, "pattern": r"\S"},
    )


class PreviewOut(BaseModel):
    html: str = Field(description="The text rendered to sanitised HTML, as posting would store it.")


class MessageIn(BaseModel):
    # The limits are enforced by messages.actions.check_body (400, with a clear message);
    # the schema states them. Empty only with attachments (checked there too).
    body: str = Field(
        default="",
        description="Message text (Markdown subset), up to 10,000 characters; not only "
        "whitespace, unless the message has attachments.",
        json_schema_extra={"maxLength": MAX_BODY_LENGTH},
    )
    attachments: list[Id] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS,
        description="Pictures and files to show with the message, in order: ids from "
        "POST /api/v1/uploads, your own and not yet attached; at most 10.",
    )
    client_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Client-generated id (a UUID); retrying with the same id never duplicates.",
    )
    confirm_all: StrictBool = Field(
        default=False,
        description="Set after the user confirmed notifying everyone: without it, `@all` "
        "in a room of more than 50 members is refused with 409 (the message names the "
        "number of members) and nothing is stored.",
    )
