"""The public shapes of incoming webhooks: the management API's and the payload tools send."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictBool

from counterline.ids import Id
from counterline.messages.schemas import MAX_BODY_LENGTH

MAX_HOOK_NAME = 64


class HookIn(BaseModel):
    room_id: Id = Field(
        strict=True, description="The room the hook posts into (not a conversation)."
    )
    # Enforced by hooks.actions.check_hook_name (400); stated here.
    name: str = Field(
        max_length=1000,
        description="Shown as the author of its posts.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_HOOK_NAME, "pattern": r"\S"},
    )
    allow_username_override: StrictBool = Field(
        default=False, description="Whether a post's `username` replaces the name shown."
    )


class HookOut(BaseModel):
    id: int
    room_id: int
    room_name: str
    name: str
    allow_username_override: bool
    created_by: str | None = Field(description="The display name of the admin who made it.")
    created_at: datetime


class HookCreated(HookOut):
    url: str = Field(description="Where tools post: `POST` it the payload. Shown only now.")
    token: str = Field(description="The secret part of `url`. Shown only now; stored hashed.")


class HookList(BaseModel):
    hooks: list[HookOut] = Field(description="Hooks not revoked, oldest first; no secrets.")


class HookPayload(BaseModel):
    """What Slack's and Mattermost's incoming webhooks accept; other fields are ignored."""

    text: str = Field(
        description="The message, in Markdown.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_BODY_LENGTH},
    )
    username: str | None = Field(
        default=None,
        description="The name shown as the author, if the hook allows it (else ignored).",
        json_schema_extra={"maxLength": MAX_HOOK_NAME},
    )
    icon_url: str | None = Field(
        default=None, description="Accepted for compatibility; Counterline shows no avatars."
    )
    channel: str | None = Field(
        default=None,
        description="The hook's own room by name (or id), or absent: a hook posts into its "
        "room only.",
    )
