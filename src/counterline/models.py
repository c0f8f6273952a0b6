"""Import every table so the metadata is complete (Alembic, tests)."""

from counterline.access_feed import AccessChange
from counterline.accounts.models import ApiToken, KnownAddress, LoginAttempt, Session, User
from counterline.admin.user_models import UserImport
from counterline.audit.models import AuditEntry
from counterline.bots.models import Bot, OutgoingHook, OutgoingHookAuthor
from counterline.branches.models import Branch
from counterline.db import Base
from counterline.faq.models import FaqEntry, Question
from counterline.hooks.models import IncomingHook, IncomingHookAuthor
from counterline.jobs.models import Job
from counterline.messages.models import Message, MessageAttachment, MessageRevision
from counterline.notices.models import (
    Notice,
    NoticeAcknowledgement,
    NoticeAttachment,
    NoticeAttempt,
    NoticeQuestion,
    NoticeRecipient,
    NoticeRevision,
)
from counterline.portal.models import (
    PortalEntry,
    PortalEntryBranch,
    PortalEntryRole,
    PortalUserEntry,
)
from counterline.rooms.models import Membership, Room
from counterline.search.models import SearchTerm
from counterline.site.models import SiteSetting
from counterline.uploads.models import Upload

__all__ = [
    "AccessChange",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Bot",
    "Branch",
    "FaqEntry",
    "IncomingHook",
    "IncomingHookAuthor",
    "Job",
    "KnownAddress",
    "LoginAttempt",
    "Membership",
    "Message",
    "MessageAttachment",
    "MessageRevision",
    "Notice",
    "NoticeAcknowledgement",
    "NoticeAttachment",
    "NoticeAttempt",
    "NoticeQuestion",
    "NoticeRecipient",
    "NoticeRevision",
    "OutgoingHook",
    "OutgoingHookAuthor",
    "PortalEntry",
    "PortalEntryBranch",
    "PortalEntryRole",
    "PortalUserEntry",
    "Question",
    "Room",
    "SearchTerm",
    "Session",
    "SiteSetting",
    "Upload",
    "User",
    "UserImport",
]
