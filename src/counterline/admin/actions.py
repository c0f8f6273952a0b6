"""Reading the audit log: filters from what an admin typed, the page, the chain check.

Days (``after``, ``before``) are read in the site's time zone, as search reads them:
``after`` from the start of that day, ``before`` up to the start of that day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from counterline.accounts import policy
from counterline.accounts.models import User
from counterline.admin import queries
from counterline.admin.queries import AuditFilters
from counterline.admin.schemas import AuditActorOut, AuditEntryOut, AuditPage
from counterline.audit.verify import ChainReport, verify_chain
from counterline.days import start_of
from counterline.db import Unit
from counterline.errors import Forbidden, UserError
from counterline.i18n import N_, gettext

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# How many of the newest entries the page's chain check reads (about 70 µs each).
PAGE_CHECKS_NEWEST = 10_000
ONLY_ADMINS = N_("Only administrators can read the audit log.")
BAD_DAY = N_("“%(value)s” is not a day: write it as YYYY-MM-DD, like 2026-01-31.")
DAYS_OUT_OF_ORDER = N_("The start day (after) must come before the end day (before).")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# What each action is called on the viewer; an action not listed is shown as it is stored.
ACTION_LABELS = {
    "login.succeeded": N_("Logged in"),
    "login.failed": N_("Login failed"),
    "login.throttled": N_("Logins slowed down"),
    "logout": N_("Logged out"),
    "password.changed": N_("Password changed"),
    "user.added": N_("User added"),
    "user.moved": N_("Moved to another branch"),
    "user.role_changed": N_("Role changed"),
    "user.deactivated": N_("User deactivated"),
    "user.reactivated": N_("User reactivated"),
    "user.unlocked": N_("Failed logins cleared"),
    "user.password_reset": N_("Password reset to a one-time password"),
    "user.renamed": N_("Display name changed"),
    "user.import.started": N_("User import started"),
    "user.import.finished": N_("User import finished"),
    "user.import.passwords_taken": N_("Imported users' one-time passwords downloaded"),
    "user.list_exported": N_("User list exported"),
    "token.created": N_("API token created"),
    "token.revoked": N_("API token revoked"),
    "hook.created": N_("Webhook created"),
    "hook.revoked": N_("Webhook revoked"),
    "hook.author_added": N_("Webhook posted under a new name"),
    "bot.created": N_("Bot created"),
    "bot.deactivated": N_("Bot deactivated"),
    "outgoing_hook.created": N_("Outgoing webhook created"),
    "outgoing_hook.revoked": N_("Outgoing webhook revoked"),
    "outgoing_hook.author_added": N_("Outgoing webhook answered under a new name"),
    "portal.created": N_("Portal entry added"),
    "portal.updated": N_("Portal entry changed"),
    "portal.deleted": N_("Portal entry removed"),
    "portal.notice_posted": N_("Portal status notice posted"),
    "branch.added": N_("Branch added"),
    "branch.renamed": N_("Branch renamed"),
    "branch.archived": N_("Branch archived"),
    "branch.unarchived": N_("Branch restored"),
    "room.created": N_("Room created"),
    "room.renamed": N_("Room renamed"),
    "room.member_added": N_("Member added to a room"),
    "room.member_removed": N_("Member removed from a room"),
    "room.archived": N_("Room archived"),
    "room.unarchived": N_("Room restored"),
    "settings.changed": N_("Site settings changed"),
    "conversation.created": N_("Conversation started"),
    "message.edit": N_("Message edited"),
    "message.delete": N_("Message deleted"),
    "record.exported": N_("Record exported"),
    "search.term_added": N_("Search term added"),
    "search.term_removed": N_("Search term removed"),
    "notice.published": N_("Notice published"),
    "notice.revised": N_("Notice revised"),
    "notice.acknowledged": N_("Notice acknowledged"),
    "notice.reminded": N_("Notice reminder sent"),
    "notice.archived": N_("Notice archived"),
    "faq.answer_accepted": N_("Answer accepted into the FAQ"),
    "faq.written": N_("FAQ entry written"),
    "faq.edited": N_("FAQ entry edited"),
    "faq.deleted": N_("FAQ entry deleted"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return gettext(label) if label is not None else action


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    """What the API and the page take: text as typed (empty means no filter)."""

    zone: ZoneInfo
    action: str | None = None
    actor: str | None = None
    target: str | None = None
    after: str | None = None
    before: str | None = None
    before_id: int | None = None
    limit: int = DEFAULT_LIMIT

    def filters(self) -> AuditFilters:
        """The query as SQL filters; a 400 saying why when a day cannot be read."""
        after = _day_of(self.after)
        before = _day_of(self.before)
        if after is not None and before is not None and after >= before:
            raise UserError(DAYS_OUT_OF_ORDER)
        return AuditFilters(
            action=self.action or None,
            actor=self.actor or None,
            target=self.target or None,
            start=start_of(after, self.zone),
            end=start_of(before, self.zone),
            before_id=self.before_id,
            limit=self.limit,
        )


def _day_of(value: str | None) -> date | None:
    if not value:
        return None
    if not _ISO_DAY.fullmatch(value):
        raise UserError(BAD_DAY, value=value)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(BAD_DAY, value=value) from None


def check_reader(viewer: User) -> None:
    if not policy.views_audit_log(viewer.role):
        raise Forbidden(ONLY_ADMINS)


async def read_log(unit: Unit, viewer: User, query: AuditQuery) -> AuditPage:
    """A page of the log, newest first, for an administrator."""
    check_reader(viewer)
    filters = query.filters()
    rows = await queries.list_entries(unit.session, filters)
    shown = rows[: filters.limit]
    entries = [
        AuditEntryOut(
            id=entry.id,
            at=entry.at,
            actor=AuditActorOut(id=entry.actor_id, username=username, display_name=name)
            if entry.actor_id is not None and username is not None and name is not None
            else None,
            action=entry.action,
            action_label=action_label(entry.action),
            target=entry.target,
            client_ip=entry.client_ip,
            details=entry.details,
            prev_hash=entry.prev_hash,
            entry_hash=entry.entry_hash,
        )
        for entry, username, name in shown
    ]
    older = shown[-1][0].id if len(rows) > filters.limit else None
    return AuditPage(entries=entries, next_before_id=older)


async def check_chain(unit: Unit, viewer: User) -> ChainReport:
    """The newest entries' chain verified, as `counterline audit verify` checks the whole
    log: in a second or so however long the log has grown."""
    check_reader(viewer)
    return await verify_chain(unit.session, newest=PAGE_CHECKS_NEWEST)
