from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from counterline.accounts.actions import MIN_PASSWORD_LENGTH
from counterline.accounts.models import Role


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


class UserList(BaseModel):
    users: list[UserOut]


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1000)
    # Enforced by accounts.actions.check_new_password (400); stated here.
    new_password: str = Field(
        max_length=1000, json_schema_extra={"minLength": MIN_PASSWORD_LENGTH, "maxLength": 256}
    )


class TokenOut(BaseModel):
    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None


class TokenList(BaseModel):
    tokens: list[TokenOut] = Field(description="Your API tokens, oldest first.")
