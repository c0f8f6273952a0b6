"""The portal: administrators keep the list of business systems; each user sees those meant
for their branch and role, stars favourites and orders them; the status checks
(portal/tasks.py) store what they found here and tell a room when a system goes down."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from counterline.accounts.actions import add_bot_user
from counterline.accounts.models import Role, User
from counterline.audit.actions import record
from counterline.db import Unit, utcnow
from counterline.errors import NotFound, UserError
from counterline.i18n import N_, current_language, gettext
from counterline.messages.actions import post_message
from counterline.portal import queries
from counterline.portal.checking import DOWN, SLOW, UNKNOWN, UP, CheckResult, Target
from counterline.portal.models import PortalEntry, PortalUserEntry
from counterline.portal.queries import Audience
from counterline.portal.schemas import (
    MAX_CATEGORY,
    MAX_DESCRIPTION,
    MAX_NAME,
    CheckOut,
    EntryIn,
    EntryOut,
    PortalItem,
)
from counterline.rooms import queries as room_queries
from counterline.rooms.actions import add_member
from counterline.rooms.models import RoomKind

NO_SUCH_ENTRY = N_("There is no such portal entry.")
# Schemes a client entry may never use: they run code or read files in the browser, or
# are web addresses (a web entry is the place for those).
FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "file", "vbscript", "blob", "about", "filesystem", "http", "https"}
)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{1,31}")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
# The account automatic notices are posted as (made on the first notice).
NOTICE_BOT_USERNAME = "portal-status"
NOTICE_BOT_NAME = N_("Business systems status")


def clean_text(value: str, max_length: int, message: str, *, required: bool = False) -> str:
    if len(value) > max_length:
        raise UserError(message, max=max_length)
    value = " ".join(value.split())
    if required and not value:
        raise UserError(message, max=max_length)
    return value


def check_url(kind: str, url: str) -> str:
    """A web entry's address is http or https with a host; a client entry's, a program's own
    scheme (``ccbclient://...``), never one that runs code or reads files in the browser."""
    url = url.strip()
    if not url or _CONTROL.search(url):
        raise UserError(N_("The address may not be empty or contain spaces."))
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if kind == "web":
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise UserError(
                N_("A web system's address starts with http:// or https:// and names a host.")
            )
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise UserError(N_("The address has an invalid port.")) from None
        return url
    if not _SCHEME.fullmatch(scheme) or not rest:
        raise UserError(
            N_(
                "A client program's address starts with the scheme its installer registers, "
                "like ccbclient://open."
            )
        )
    if scheme in FORBIDDEN_SCHEMES:
        raise UserError(
            N_("A client program's address cannot use the scheme “%(scheme)s:”."), scheme=scheme
        )
    return url


async def _checked(unit: Unit, data: EntryIn) -> dict[str, Any]:
    """The entry's fields from what the administrator wrote, checked."""
    fields: dict[str, Any] = {
        "name": clean_text(
            data.name, MAX_NAME, N_("A name has 1 to %(max)s characters."), required=True
        ),
        "description": data.description.strip(),
        "category": clean_text(
            data.category, MAX_CATEGORY, N_("A category has at most %(max)s characters.")
        ),
        "kind": data.kind,
        "url": check_url(data.kind, data.url),
        "icon_upload_id": data.icon_upload_id,
        "position": data.position,
        "active": data.active,
        "visible_to_all": data.visible_to_all,
        "down_notice_room_id": data.down_notice_room_id,
    }
    if len(data.description) > MAX_DESCRIPTION:
        raise UserError(N_("A description has at most %(max)s characters."), max=MAX_DESCRIPTION)
    if data.icon_upload_id is not None:
        upload = await queries.find_upload(unit.session, data.icon_upload_id)
        if upload is None:
            raise UserError(N_("There is no such upload for the icon."))
        if upload.kind != "image":
            raise UserError(N_("The icon must be a picture (PNG, JPEG, GIF or WebP)."))
    if data.down_notice_room_id is not None:
        room = await room_queries.find_room(unit.session, data.down_notice_room_id)
        if room is None or room.kind == RoomKind.conversation:
            raise UserError(N_("There is no such room for the down notices."))
    return fields


async def _audience(unit: Unit, data: EntryIn) -> Audience:
    branch_ids = set(data.branch_ids)
    if await queries.existing_branch_ids(unit.session, branch_ids) != branch_ids:
        raise UserError(N_("There is no such branch to show the entry to."))
    return Audience(branch_ids, {str(role) for role in data.roles})


async def create_entry(unit: Unit, actor: User, data: EntryIn, *, client_ip: str) -> PortalEntry:
    fields = await _checked(unit, data)
    audience = await _audience(unit, data)
    entry = PortalEntry(**fields, created_by_id=actor.id)
    unit.session.add(entry)
    await unit.session.flush()
    await queries.set_audience(unit.session, entry.id, audience)
    record(
        unit,
        "portal.created",
        actor_id=actor.id,
        target=f"portal:{entry.id}",
        client_ip=client_ip,
        **_audited(entry, audience),
    )
    return entry


async def update_entry(
    unit: Unit, actor: User, entry_id: int, data: EntryIn, *, client_ip: str
) -> PortalEntry:
    entry = await queries.find_entry(unit.session, entry_id)
    if entry is None:
        raise NotFound(NO_SUCH_ENTRY)
    fields = await _checked(unit, data)
    audience = await _audience(unit, data)
    if fields["url"] != entry.url or fields["kind"] != entry.kind:
        fields.update(status=UNKNOWN, status_since=None, checked_at=None, response_ms=None)
        fields["status_detail"] = ""
    for name, value in fields.items():
        setattr(entry, name, value)
    await queries.set_audience(unit.session, entry.id, audience)
    record(
        unit,
        "portal.updated",
        actor_id=actor.id,
        target=f"portal:{entry.id}",
        client_ip=client_ip,
        **_audited(entry, audience),
    )
    return entry


async def delete_entry(unit: Unit, actor: User, entry_id: int, *, client_ip: str) -> None:
    """Nobody sees it any more; its row stays, named by the audit log."""
    entry = await queries.find_entry(unit.session, entry_id)
    if entry is None:
        raise NotFound(NO_SUCH_ENTRY)
    entry.archived_at = utcnow()
    entry.active = False
    record(
        unit,
        "portal.deleted",
        actor_id=actor.id,
        target=f"portal:{entry.id}",
        client_ip=client_ip,
        name=entry.name,
    )


def _audited(entry: PortalEntry, audience: Audience) -> dict[str, Any]:
    return {
        "name": entry.name,
        "kind": entry.kind,
        "url": entry.url,
        "active": entry.active,
        "visible_to_all": entry.visible_to_all,
        "branch_ids": sorted(audience.branch_ids),
        "roles": sorted(audience.roles),
        "down_notice_room_id": entry.down_notice_room_id,
    }


def sees(user: User, entry: PortalEntry, audience: Audience) -> bool:
    """Whether ``user`` is shown ``entry``: all see it, or the user's branch is one chosen
    (if branches are) and their role one chosen (if roles are); with neither, nobody."""
    if not entry.active or entry.archived_at is not None:
        return False
    if entry.visible_to_all:
        return True
    if not audience.branch_ids and not audience.roles:
        return False
    in_branch = not audience.branch_ids or user.branch_id in audience.branch_ids
    in_role = not audience.roles or str(user.role) in audience.roles
    return in_branch and in_role


async def visible_entries(unit: Unit, user: User) -> list[PortalEntry]:
    entries = await queries.list_entries(unit.session, active_only=True)
    found = await queries.audiences(unit.session, [entry.id for entry in entries])
    return [entry for entry in entries if sees(user, entry, found[entry.id])]


async def visible_entry(unit: Unit, user: User, entry_id: int) -> PortalEntry:
    entry = await queries.find_entry(unit.session, entry_id)
    if entry is not None:
        found = await queries.audiences(unit.session, [entry_id])
        if sees(user, entry, found[entry_id]):
            return entry
    raise NotFound(NO_SUCH_ENTRY)


async def portal_of(unit: Unit, user: User) -> list[PortalItem]:
    """What ``user`` sees: favourites in their order, then the most used, then by position."""
    entries = await visible_entries(unit, user)
    mine = await queries.user_entries(unit.session, user.id)

    def order(entry: PortalEntry) -> tuple[int, int, int, int, str, int]:
        own = mine.get(entry.id)
        favourite = own.favourite_position if own is not None else None
        uses = own.uses if own is not None else 0
        if favourite is not None:
            return (0, favourite, 0, 0, "", entry.id)
        return (1, 0, -uses, entry.position, entry.name, entry.id)

    items = []
    for entry in sorted(entries, key=order):
        own = mine.get(entry.id)
        items.append(
            PortalItem(
                id=entry.id,
                name=entry.name,
                description=entry.description,
                category=entry.category,
                kind=entry.kind,  # type: ignore[arg-type]
                url=entry.url,
                icon_url=icon_url(entry),
                check=check_of(entry),
                favourite=own is not None and own.favourite_position is not None,
                uses=own.uses if own is not None else 0,
            )
        )
    return items


def icon_url(entry: PortalEntry) -> str | None:
    return f"/portal/icons/{entry.id}" if entry.icon_upload_id is not None else None


def check_of(entry: PortalEntry) -> CheckOut:
    return CheckOut(
        status=entry.status,  # type: ignore[arg-type]
        checked_at=entry.checked_at,
        status_since=entry.status_since,
        response_ms=entry.response_ms,
        detail=entry.status_detail,
    )


def entry_out(entry: PortalEntry, audience: Audience) -> EntryOut:
    return EntryOut(
        id=entry.id,
        name=entry.name,
        description=entry.description,
        category=entry.category,
        kind=entry.kind,  # type: ignore[arg-type]
        url=entry.url,
        icon_upload_id=entry.icon_upload_id,
        icon_url=icon_url(entry),
        position=entry.position,
        active=entry.active,
        visible_to_all=entry.visible_to_all,
        branch_ids=sorted(audience.branch_ids),
        roles=[Role(role) for role in sorted(audience.roles)],
        down_notice_room_id=entry.down_notice_room_id,
        check=check_of(entry),
        created_at=entry.created_at,
    )


async def admin_entries(unit: Unit) -> list[EntryOut]:
    entries = await queries.list_entries(unit.session, active_only=False)
    found = await queries.audiences(unit.session, [entry.id for entry in entries])
    return [entry_out(entry, found[entry.id]) for entry in entries]


async def admin_entry(unit: Unit, entry_id: int) -> EntryOut:
    entry = await queries.find_entry(unit.session, entry_id)
    if entry is None:
        raise NotFound(NO_SUCH_ENTRY)
    return entry_out(entry, (await queries.audiences(unit.session, [entry_id]))[entry_id])


async def set_favourites(unit: Unit, user: User, entry_ids: Sequence[int]) -> None:
    """``entry_ids`` become the user's favourites, in that order; others are not any more."""
    if len(set(entry_ids)) != len(entry_ids):
        raise UserError(N_("A favourite is listed twice."))
    visible = {entry.id for entry in await visible_entries(unit, user)}
    if not set(entry_ids) <= visible:
        raise NotFound(NO_SUCH_ENTRY)
    mine = await queries.user_entries(unit.session, user.id)
    for own in mine.values():
        own.favourite_position = None
    for position, entry_id in enumerate(entry_ids):
        own = mine.get(entry_id)
        if own is None:
            own = PortalUserEntry(user_id=user.id, entry_id=entry_id, uses=0)
            unit.session.add(own)
        own.favourite_position = position
    await unit.session.flush()


async def count_use(unit: Unit, user: User, entry_id: int) -> int:
    """The user opened the entry: its use count for them, one more."""
    await visible_entry(unit, user, entry_id)
    own = await queries.find_user_entry(unit.session, user.id, entry_id)
    if own is None:
        try:
            async with unit.session.begin_nested():
                own = PortalUserEntry(user_id=user.id, entry_id=entry_id, uses=0)
                unit.session.add(own)
                await unit.session.flush()
        except IntegrityError:  # their first use, at the same moment from another tab
            own = await queries.find_user_entry(unit.session, user.id, entry_id)
            if own is None:
                raise
    own.uses += 1
    own.last_used_at = utcnow()
    return own.uses


async def check_targets(unit: Unit) -> list[Target]:
    """The addresses the status checks ask: every active web entry's."""
    entries = await queries.list_entries(unit.session, active_only=True)
    return [Target(entry.id, entry.url) for entry in entries if entry.kind == "web"]


@dataclass(frozen=True, slots=True)
class Change:
    entry_id: int
    name: str
    old: str
    new: str


async def store_results(
    unit: Unit,
    results: Sequence[CheckResult],
    *,
    zone: ZoneInfo,
    language: str,
    client_ip: str = "",
) -> list[Change]:
    """Store a round of checks; post the notices of systems that went down or came back.
    Returns the changes of status."""
    now = utcnow()
    changes = []
    for result in results:
        entry = await queries.find_entry(unit.session, result.entry_id)
        if entry is None or entry.kind != "web":
            continue  # deleted, or made a client entry, while it was being checked
        old = entry.status
        entry.checked_at = now
        entry.response_ms = result.response_ms
        entry.status_detail = result.detail[:200]
        if old != result.status:
            entry.status = result.status
            entry.status_since = now
            changes.append(Change(entry.id, entry.name, old, result.status))
            await _notify(unit, entry, old, zone=zone, language=language, client_ip=client_ip)
    return changes


async def _notify(
    unit: Unit, entry: PortalEntry, old: str, *, zone: ZoneInfo, language: str, client_ip: str
) -> None:
    """A notice to the entry's room when it went down, or is answering again after that."""
    went_down = entry.status == DOWN
    came_back = old == DOWN and entry.status in (UP, SLOW)
    if entry.down_notice_room_id is None or not (went_down or came_back):
        return
    room = await room_queries.find_room(unit.session, entry.down_notice_room_id)
    if room is None:
        return
    since = entry.status_since or utcnow()
    token = current_language.set(language)
    try:
        when = _local_time(since, zone)
        if went_down:
            body = gettext(
                "⚠ %(name)s cannot be reached since %(time)s (%(detail)s). "
                "It is the system, not your PC: please wait, you will be told here when "
                "it is back.",
                name=entry.name,
                time=when,
                detail=entry.status_detail or "?",
            )
        else:
            body = gettext(
                "✓ %(name)s is answering again since %(time)s.", name=entry.name, time=when
            )
        bot = await _notice_bot(unit, gettext(NOTICE_BOT_NAME), room)
    finally:
        current_language.reset(token)
    key = f"portal-{entry.id}-{entry.status}-{int(since.timestamp())}"
    try:
        async with unit.session.begin_nested():
            await post_message(unit, bot, room.id, body, key, client_ip)
    except UserError:
        return  # the room refuses posts now (archived): the status is stored all the same
    record(
        unit,
        "portal.notice_posted",
        target=f"portal:{entry.id}",
        room_id=room.id,
        status=entry.status,
    )


async def _notice_bot(unit: Unit, display_name: str, room: Any) -> User:
    """The account the notices are posted as: inactive (no login, not in the directory),
    made on the first notice, a member of each room it posts into."""
    bot = await unit.session.scalar(select(User).where(User.username == NOTICE_BOT_USERNAME))
    if bot is None:
        branch_id = room.branch_id or await _any_branch(unit)
        bot = await add_bot_user(
            unit,
            username=NOTICE_BOT_USERNAME,
            display_name=display_name,
            branch_id=branch_id,
            active=False,
        )
    await add_member(unit, room, bot.id)
    return bot


async def _any_branch(unit: Unit) -> int:
    branches = await queries.list_branches(unit.session)
    if not branches:
        raise UserError(N_("There is no such branch to show the entry to."))
    return branches[0].id


def _local_time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
