"""The admin console's JSON shapes: branches, rooms and their members, site settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from counterline.rooms.models import RoomKind, Visibility


class BranchOut(BaseModel):
    id: int
    name: str
    archived: bool
    archived_at: datetime | None
    active_users: int = Field(description="Active users whose branch this is.")
    room_id: int | None = Field(description="The branch's room (named after it).")
    created_at: datetime


class BranchList(BaseModel):
    branches: list[BranchOut]


class BranchIn(BaseModel):
    # Enforced by branches.actions.check_branch_name (400); stated here.
    name: str = Field(
        max_length=1000, json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": r"\S"}
    )


class BranchPatch(BaseModel):
    name: str | None = Field(
        default=None,
        max_length=1000,
        description="A new name (unique); the branch's room takes it too.",
        json_schema_extra={"maxLength": 100},
    )
    archived: StrictBool | None = Field(
        default=None,
        description="true archives the branch and its room (refused while it has active "
        "users); false brings both back.",
    )


class AdminRoomOut(BaseModel):
    id: int
    kind: RoomKind
    name: str
    visibility: Visibility
    branch_id: int | None
    archived: bool
    archived_at: datetime | None
    member_count: int
    created_at: datetime


class AdminRoomList(BaseModel):
    rooms: list[AdminRoomOut]


class AdminRoomIn(BaseModel):
    # Enforced by rooms.actions.check_room_name (400); stated here.
    name: str = Field(
        max_length=1000, json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": r"\S"}
    )
    visibility: Visibility = Visibility.invite_only


class AdminRoomPatch(BaseModel):
    name: str | None = Field(
        default=None,
        max_length=1000,
        description="A topic room's new name.",
        json_schema_extra={"maxLength": 100},
    )
    archived: StrictBool | None = Field(
        default=None,
        description="true archives a topic room (read-only, out of room lists, history "
        "kept); false opens it again.",
    )


class RoomMemberOut(BaseModel):
    id: int
    username: str
    display_name: str
    active: bool


class RoomMemberList(BaseModel):
    room_id: int
    members: list[RoomMemberOut]


class RoomMemberIn(BaseModel):
    username: str = Field(max_length=64)


class SettingsOut(BaseModel):
    """Each setting's value in effect; ``from_console`` lists those the console set (the
    others are the config file's), ``config`` what each would be without the console."""

    site_name: str = Field(description="Empty: the product's name, in the viewer's language.")
    site_logo: int | None = Field(description="The upload id of the logo picture, or null.")
    default_language: str
    time_zone: str
    message_edit_minutes: float
    max_upload_mb: float
    retention_days: int
    from_console: list[str]
    config: dict[str, str | int | float | None]


# A whole number, as JSON or as text (a form's field); its range is checked by site.values.
Number = (
    Annotated[StrictInt, Field(ge=-(2**53), le=2**53)] | Annotated[StrictStr, Field(max_length=32)]
)


class SettingsIn(BaseModel):
    """The settings to change; a setting left out stays as it is, ``null`` (or "") goes back
    to the config file's value. Checked by ``site.values``: a value that cannot be used is
    a 400 naming each field (``fields``)."""

    site_name: str | None = Field(default=None, max_length=1000)
    site_logo: Number | None = None
    default_language: str | None = Field(default=None, max_length=16)
    time_zone: str | None = Field(default=None, max_length=200)
    message_edit_minutes: Number | None = None
    max_upload_mb: Number | None = None
    retention_days: Number | None = None


class SettingsRefusedOut(BaseModel):
    error: str
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="What is wrong with each setting, by name (absent when the body itself "
        "cannot be read).",
    )
