"""The inbox ("For me") and notification settings: what a user reads and sets."""

from __future__ import annotations

from typing import Any

from counterline.accounts import queries as account_queries
from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import NotFound
from counterline.inbox import queries
from counterline.inbox.schemas import (
    MuteOut,
    NotificationSettingsIn,
    NotificationSettingsOut,
)
from counterline.messages import attachments
from counterline.messages.mentions import reasons_of
from counterline.messages.plain import shaper
from counterline.rooms.actions import NOT_A_MEMBER

MAX_PAGE = 100


async def inbox(
    unit: Unit, viewer: User, *, before: int | None, unread_only: bool, limit: int
) -> dict[str, Any]:
    """Messages addressed to the viewer in rooms they are a member of, newest first:
    direct messages and mentions of them, their branch, their role or everyone. Deleted
    messages are left out, staff included. In InboxPage's JSON shape, built without models
    (messages/plain.py): the inbox is read at every login and whenever something arrives."""
    limit = max(1, min(limit, MAX_PAGE))
    found = await queries.inbox_page(
        unit.session, viewer.id, before, limit + 1, unread_only=unread_only
    )
    more, found = len(found) > limit, found[:limit]
    messages = await attachments.with_attachments(unit.session, [item[0] for item in found])
    shaped = shaper(staff=viewer.sees_client_ips, viewer_id=viewer.id)
    items = []
    for message, (_, reasons, unread, name, kind, one_to_one) in zip(messages, found, strict=True):
        # A 1:1 conversation is called after the other person: the author, in an inbox.
        room_name = message.author_display_name if one_to_one else name
        items.append(
            {
                "message": shaped(message),
                "room": {"id": message.room_id, "name": room_name, "kind": kind},
                "reasons": reasons_of(reasons),
                "unread": unread,
            }
        )
    next_before = items[-1]["message"]["id"] if more and items else None
    return {"items": items, "has_more": more, "next_before": next_before}


async def unread_count(unit: Unit, viewer: User) -> int:
    return await queries.unread_count(unit.session, viewer.id)


async def notification_settings(unit: Unit, user: User) -> NotificationSettingsOut:
    """Read from the database: the request's identity may be cached."""
    found = await account_queries.notification_settings(unit.session, user.id)
    level, sound = found if found is not None else ("mentions", False)
    return NotificationSettingsOut(level=level, sound=sound)  # type: ignore[arg-type]


async def change_notification_settings(
    unit: Unit, user: User, change: NotificationSettingsIn
) -> NotificationSettingsOut:
    values = {}
    if change.level is not None:
        values["notify_level"] = change.level
    if change.sound is not None:
        values["notify_sound"] = change.sound
    if values:
        await account_queries.set_notification_settings(unit.session, user.id, **values)
    return await notification_settings(unit, user)


async def mute_room(unit: Unit, user: User, room_id: int, muted: bool) -> MuteOut:
    """Members only; anyone else is told the room is not found (conversations stay secret)."""
    if not await queries.set_muted(unit.session, user.id, room_id, muted):
        raise NotFound(NOT_A_MEMBER)
    return MuteOut(room_id=room_id, muted=muted)
