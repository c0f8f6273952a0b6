"""The public shapes of the portal: the administrators' entries and what a user is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from counterline.accounts.models import Role
from counterline.ids import Id

MAX_NAME = 64
MAX_DESCRIPTION = 500
MAX_CATEGORY = 64
MAX_URL = 2000
MAX_POSITION = 100_000
MAX_CHOSEN = 500  # branches an entry may be limited to, favourites a user may order

Kind = Literal["web", "client"]
Status = Literal["up", "slow", "down", "unknown"]


class EntryIn(BaseModel):
    """An entry as an administrator writes it (the whole entry, on create and on update)."""

    # Names, descriptions and categories are trimmed and bounded by portal.actions (400).
    name: str = Field(max_length=1000, json_schema_extra={"minLength": 1, "maxLength": MAX_NAME})
    description: str = Field(
        default="", max_length=5000, json_schema_extra={"maxLength": MAX_DESCRIPTION}
    )
    category: str = Field(
        default="",
        max_length=1000,
        description="Cards are grouped by it on the portal page.",
        json_schema_extra={"maxLength": MAX_CATEGORY},
    )
    kind: Kind = Field(
        default="web",
        description="`web`: an http(s) address, opened in a new tab and checked on a "
        "schedule. `client`: a client program's own URL scheme (`ccbclient://...`), "
        "registered on the PCs by its installer; never checked.",
    )
    url: str = Field(max_length=MAX_URL)
    icon_upload_id: Id | None = Field(
        default=None, strict=True, description="A picture uploaded with POST /api/v1/uploads."
    )
    position: int = Field(default=0, ge=0, le=MAX_POSITION, strict=True)
    active: StrictBool = True
    visible_to_all: StrictBool = Field(
        default=True,
        description="False: only users of `branch_ids` (if any) and of `roles` (if any).",
    )
    branch_ids: list[Id] = Field(default_factory=list, max_length=MAX_CHOSEN)
    roles: list[Role] = Field(default_factory=list, max_length=len(Role))
    down_notice_room_id: Id | None = Field(
        default=None,
        strict=True,
        description="A room told automatically when the system goes down and comes back.",
    )


class CheckOut(BaseModel):
    status: Status = Field(description="`unknown` until checked, and for client programs.")
    checked_at: datetime | None
    status_since: datetime | None = Field(description="Since when the status has been so.")
    response_ms: int | None
    detail: str


class EntryOut(BaseModel):
    """An entry as the administrators see it."""

    id: int
    name: str
    description: str
    category: str
    kind: Kind
    url: str
    icon_upload_id: int | None
    icon_url: str | None
    position: int
    active: bool
    visible_to_all: bool
    branch_ids: list[int]
    roles: list[Role]
    down_notice_room_id: int | None
    check: CheckOut
    created_at: datetime


class EntryList(BaseModel):
    entries: list[EntryOut] = Field(description="Entries not deleted, by category and position.")


class PortalItem(BaseModel):
    """An entry as a user sees it on their portal."""

    id: int
    name: str
    description: str
    category: str
    kind: Kind
    url: str
    icon_url: str | None
    check: CheckOut
    favourite: bool
    uses: int = Field(description="How often this user opened it.")


class Portal(BaseModel):
    entries: list[PortalItem] = Field(
        description="What the caller may see: their favourites in their order, then the "
        "most used, then by the administrators' position."
    )
    check_seconds: float = Field(description="How often web systems are checked.")


class FavouritesIn(BaseModel):
    entry_ids: list[Id] = Field(
        max_length=MAX_CHOSEN, description="The caller's favourites, in their order."
    )
