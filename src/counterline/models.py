"""Import every table so the metadata is complete (Alembic, tests)."""

from counterline.accounts.models import ApiToken, LoginAttempt, Session, User
from counterline.audit.models import AuditEntry
from counterline.branches.models import Branch
from counterline.db import Base
from counterline.messages.models import Message
from counterline.rooms.models import Membership, Room

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Branch",
    "LoginAttempt",
    "Membership",
    "Message",
    "Room",
    "Session",
    "User",
]
