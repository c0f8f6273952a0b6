"""The public shapes of the users console's API (/api/v1/admin/users)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from counterline.accounts.policy import Role
from counterline.ids import Id

# Stated in the schema; enforced by accounts.actions (check_username, check_display_name).
USERNAME_FIELD = {"minLength": 2, "maxLength": 64, "pattern": r"^[\w.@-]+$"}
DISPLAY_NAME_FIELD = {"minLength": 1, "maxLength": 100}


class UserRowOut(BaseModel):
    id: int
    username: str
    display_name: str
    branch_id: int
    branch_name: str
    role: Role
    active: bool = Field(description="False once deactivated: cannot log in; history kept.")
    must_change_password: bool = Field(description="Holds a one-time password still.")
    failed_logins: int = Field(description="Failed logins still counted against the username.")
    created_at: datetime
    last_login_at: datetime | None


class UserPage(BaseModel):
    users: list[UserRowOut] = Field(description="By branch name, then username.")
    total: int = Field(description="How many accounts match the filters.")
    offset: int
    limit: int


class UserIn(BaseModel):
    username: str = Field(max_length=1000, json_schema_extra=USERNAME_FIELD)
    display_name: str = Field(max_length=1000, json_schema_extra=DISPLAY_NAME_FIELD)
    branch_id: Id = Field(strict=True)
    role: Role = Role.clerk


class UserCreated(BaseModel):
    user: UserRowOut
    one_time_password: str = Field(
        description="Shown only now: hand it over; it must be replaced at the first login."
    )


class UserPatch(BaseModel):
    display_name: str | None = Field(
        default=None, max_length=1000, json_schema_extra=DISPLAY_NAME_FIELD
    )
    branch_id: Id | None = Field(default=None, strict=True)
    role: Role | None = None


class PasswordResetOut(BaseModel):
    user: UserRowOut
    one_time_password: str = Field(
        description="Shown only now; every session of the user has ended, and this password "
        "must be replaced at the next login."
    )


class UnlockOut(BaseModel):
    user: UserRowOut
    failures_cleared: int


class ImportRowOut(BaseModel):
    line: int = Field(description="The row's line in the file (the header is line 1).")
    username: str
    display_name: str
    branch: str
    role: str
    errors: list[str] = Field(description="Why the row cannot be imported; empty if it can.")


class ImportPreview(BaseModel):
    encoding: str = Field(description="How the file was read: utf-8, utf-8-sig, gb18030, ...")
    rows: list[ImportRowOut]
    valid: int
    invalid: int
    missing_branches: list[str] = Field(
        description="Branches named by the file that do not exist (created with "
        "`create_branches=true`)."
    )


class ImportRowError(BaseModel):
    line: int
    username: str
    errors: list[str]


class ImportStatus(BaseModel):
    id: int
    state: str = Field(description="`running`, `done` or `failed`.")
    total: int = Field(description="Valid rows to create.")
    done: int = Field(description="Rows handled so far.")
    created: int = Field(description="Users created so far.")
    percent: int
    errors: list[ImportRowError] = Field(
        description="Rows refused (at preview, or when their turn came)."
    )
    passwords_url: str | None = Field(
        description="Where the admin who ran it downloads the one-time passwords (CSV), "
        "once, when the import is done; null after that."
    )
    created_at: datetime
    finished_at: datetime | None
