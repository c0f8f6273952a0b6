from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from counterline.messages.schemas import MessageOut
from counterline.rooms.models import RoomKind

Reason = Literal["direct", "mention", "branch", "role", "all"]
Level = Literal["all", "mentions", "none"]


class InboxRoomOut(BaseModel):
    id: int
    name: str = Field(description="The room's name; for a 1:1 conversation, the other person's.")
    kind: RoomKind


class InboxItemOut(BaseModel):
    message: MessageOut = Field(description="Open `/rooms/{room.id}` at `message.id`.")
    room: InboxRoomOut
    reasons: list[Reason] = Field(
        description="Why it is yours: `direct` (a conversation you are in), `mention` (you "
        "by name), `branch` (your branch), `role` (your role), `all` (everyone in the room)."
    )
    unread: bool = Field(description="Newer than your read position in its room.")


class InboxPage(BaseModel):
    items: list[InboxItemOut] = Field(description="Newest first.")
    has_more: bool
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the end."
    )


class InboxCount(BaseModel):
    unread: int = Field(
        description="How many items of your inbox are unread, at most 100: 100 means 100 "
        "or more (show 99+)."
    )


class NotificationSettingsOut(BaseModel):
    level: Level = Field(
        description="Desktop notifications for `all` messages, only `mentions` and direct "
        "messages, or `none`."
    )
    sound: bool = Field(description="Whether a notification plays a sound.")


class NotificationSettingsIn(BaseModel):
    level: Level | None = Field(default=None, description="Unchanged when absent.")
    sound: StrictBool | None = Field(default=None, description="Unchanged when absent.")


class MuteIn(BaseModel):
    muted: StrictBool


class MuteOut(BaseModel):
    room_id: int
    muted: bool = Field(description="No desktop notifications from this room.")
