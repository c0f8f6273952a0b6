"""Import every table so the metadata is complete (Alembic, tests)."""

from counterline.access_feed import AccessChange
from counterline.accounts.models import ApiToken, KnownAddress, LoginAttempt, Session, User
from counterline.audit.models import AuditEntry
from counterline.branches.models import Branch
from counterline.db import Base
from counterline.jobs.models import Job
from counterline.messages.models import Message
from counterline.rooms.models import Membership, Room

__all__ = [
    "AccessChange",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Branch",
    "Job",
    "KnownAddress",
    "LoginAttempt",
    "Membership",
    "Message",
    "Room",
    "Session",
    "User",
]
