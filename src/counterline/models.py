"""Import every table so the metadata is complete (Alembic, tests)."""

from counterline.access_feed import AccessChange
from counterline.accounts.models import ApiToken, KnownAddress, LoginAttempt, Session, User
from counterline.audit.models import AuditEntry
from counterline.branches.models import Branch
from counterline.db import Base
from counterline.hooks.models import IncomingHook, IncomingHookAuthor
from counterline.jobs.models import Job
from counterline.messages.models import Message, MessageAttachment, MessageRevision
from counterline.rooms.models import Membership, Room
from counterline.search.models import SearchTerm
from counterline.uploads.models import Upload

__all__ = [
    "AccessChange",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Branch",
    "IncomingHook",
    "IncomingHookAuthor",
    "Job",
    "KnownAddress",
    "LoginAttempt",
    "Membership",
    "Message",
    "MessageAttachment",
    "MessageRevision",
    "Room",
    "SearchTerm",
    "Session",
    "Upload",
    "User",
]
