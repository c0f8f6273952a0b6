"""The public shapes of bots and outgoing webhooks (the administrators' API)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from counterline.accounts.policy import TokenScope
from counterline.bots.actions import (
    MAX_BOT_ROOMS,
    MAX_CALLBACK_URL,
    MAX_HOOK_NAME,
    MAX_TRIGGER_WORD,
    MAX_TRIGGER_WORDS,
)
from counterline.ids import Id


class RoomRef(BaseModel):
    id: int
    name: str


class BotIn(BaseModel):
    # Enforced by accounts.actions.check_username and check_display_name (400); stated here.
    username: str = Field(
        max_length=1000,
        description="Its login name (it never logs in with a password).",
        json_schema_extra={"minLength": 2, "maxLength": 64, "pattern": r"^[\w.@-]+$"},
    )
    display_name: str = Field(
        max_length=1000,
        description="Shown as the author of its posts.",
        json_schema_extra={"minLength": 1, "maxLength": 100},
    )
    room_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_BOT_ROOMS,
        description="The rooms it reads and may post in (not conversations).",
    )


class BotOut(BaseModel):
    id: int = Field(description="Its user id: the author id of its posts.")
    username: str
    display_name: str
    rooms: list[RoomRef]
    created_by: str | None
    created_at: datetime


class BotCreated(BotOut):
    token: str = Field(
        description="Its API token (scopes `read` and `post`): send as "
        "`Authorization: Bearer <token>`. Shown only now; stored hashed."
    )
    token_id: int
    scopes: list[TokenScope]


class BotList(BaseModel):
    bots: list[BotOut] = Field(description="Active bots, oldest first; no secrets.")


class OutgoingHookIn(BaseModel):
    room_id: Id = Field(strict=True, description="The room it watches (not a conversation).")
    # Enforced by bots.actions (400); stated here.
    name: str = Field(
        max_length=1000,
        description="Shown as the author of the answers it posts.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_HOOK_NAME},
    )
    trigger_words: list[str] = Field(
        min_length=1,
        max_length=MAX_TRIGGER_WORDS,
        description="A message starting with one of them is sent to `callback_url`.",
        json_schema_extra={"items": {"minLength": 1, "maxLength": MAX_TRIGGER_WORD}},
    )
    callback_url: str = Field(
        max_length=MAX_CALLBACK_URL * 2,
        description="An http:// or https:// address that accepts the JSON POST.",
        json_schema_extra={"maxLength": MAX_CALLBACK_URL},
    )


class OutgoingHookOut(BaseModel):
    id: int
    room_id: int
    room_name: str
    name: str
    trigger_words: list[str]
    callback_url: str
    created_by: str | None = Field(description="The display name of the admin who made it.")
    created_at: datetime


class OutgoingHookCreated(OutgoingHookOut):
    token: str = Field(
        description="Sent as `token` in every call, so the receiver knows it is us. Shown only now."
    )


class OutgoingHookList(BaseModel):
    hooks: list[OutgoingHookOut] = Field(description="Hooks not revoked, oldest first.")
