from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from counterline.accounts.actions import MIN_PASSWORD_LENGTH
from counterline.accounts.models import Role
from counterline.accounts.policy import TokenScope


class LoginIn(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    branch_id: int
    branch_name: str
    online: bool
    last_seen_at: datetime | None


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str | None = Field(
        description="Send as X-CSRF-Token on state changes made with the session cookie."
    )
    must_change_password: bool


class DirectoryUserOut(UserOut):
    pinyin: str = Field(
        description="The display name's pinyin, lowercase without tones or spaces (王芳: wangfang)."
    )
    initials: str = Field(description="The pinyin's initials (王芳: wf).")


class UserList(BaseModel):
    users: list[DirectoryUserOut]


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1000)
    # Enforced by accounts.actions.check_new_password (400); stated here.
    new_password: str = Field(
        max_length=1000, json_schema_extra={"minLength": MIN_PASSWORD_LENGTH, "maxLength": 256}
    )


class TokenIn(BaseModel):
    # Enforced by accounts.actions.create_api_token (400); stated here.
    label: str = Field(
        default="",
        max_length=1000,
        description="What the token is for.",
        json_schema_extra={"maxLength": 100},
    )
    scopes: list[TokenScope] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="`read`: GET and HEAD requests and the stream (rooms, messages, search, "
        "inbox). `post`: every other method outside the admin API (post and edit own "
        "messages, uploads, read positions). `admin`: the admin API, administrators only. "
        "Default: every scope of your role.",
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Default: the token never expires."
    )


class TokenOut(BaseModel):
    id: int
    label: str
    scopes: list[TokenScope]
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute.")
    expires_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(
        description="Send as `Authorization: Bearer <token>`. Shown only now; stored hashed."
    )


class TokenList(BaseModel):
    tokens: list[TokenOut] = Field(description="Your API tokens, oldest first.")
