from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditActorOut(BaseModel):
    id: int
    username: str
    display_name: str


class AuditEntryOut(BaseModel):
    id: int = Field(description="Entries are numbered in the order they were committed.")
    at: datetime
    actor: AuditActorOut | None = Field(
        description="Who did it; null when nobody was logged in (a failed login, the CLI)."
    )
    action: str = Field(description="What was done, e.g. `login.failed`, `user.role_changed`.")
    action_label: str = Field(description="The action in the reader's language.")
    target: str = Field(description="What it was done to, e.g. `user:5`, `message:42`.")
    client_ip: str = Field(description="The address it came from; empty for the CLI.")
    details: dict[str, Any] = Field(description="What else the action recorded.")
    prev_hash: str = Field(description="The hash of the entry before (hex SHA-256).")
    entry_hash: str = Field(description="This entry's hash, chained to `prev_hash`.")


class AuditPage(BaseModel):
    entries: list[AuditEntryOut] = Field(description="Newest first.")
    next_before_id: int | None = Field(
        description="Pass as `before_id` for the next, older page; null when there is none."
    )
