"""Messages in MessageOut's JSON shape straight from the stored rows, without a model per
message, for pages of history and of the inbox: a page of fifty is the most frequent read,
and validating and serialising fifty models cost more than its query (bench.http_api). The
answer is the one ``MessagePage.model_dump_json()`` gives for the same rows, key for key
(tests/test_conditional_get.py holds the two side by side); what a viewer may not see is
withheld by the same rule (``withheld_fields``). Timestamps stay ``datetime`` values:
pydantic's encoder (``conditional_json``, ``encode_for_page``) writes them as the models do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from counterline.messages.queries import StoredMessage
from counterline.messages.schemas import withheld_fields


def _mention(stored: dict[str, Any]) -> dict[str, Any]:
    return {"kind": stored["kind"], "id": stored.get("id"), "name": stored["name"]}


def _shaped(message: StoredMessage, withheld: frozenset[str]) -> dict[str, Any]:
    """The message in MessageOut's JSON shape and field order, ``withheld`` fields null."""
    shaped = {
        "id": message.id,
        "room_id": message.room_id,
        "client_id": message.client_id,
        "author": {
            "id": message.author_id,
            "username": message.author_username,
            "display_name": message.author_display_name,
        },
        "branch": {"id": message.branch_id, "name": message.branch_name},
        "body": message.body,
        "html": message.body_html,
        "body_html": message.body_html,
        "created_at": message.created_at,
        "edited_at": message.edited_at,
        "attachments": [each.model_dump(mode="json") for each in message.attachments],
        "mentions": [_mention(each) for each in message.mentions or ()],
        "client_ip": message.client_ip,
        "deleted_at": message.deleted_at,
    }
    for name in withheld:
        shaped[name] = None
    return shaped


def shaper(*, staff: bool, viewer_id: int) -> Callable[[StoredMessage], dict[str, Any]]:
    """A message in MessageOut's JSON shape as this viewer sees it (``withheld_fields``)."""
    mine = withheld_fields(staff=staff, author=True)
    theirs = withheld_fields(staff=staff, author=False)

    def shaped(message: StoredMessage) -> dict[str, Any]:
        return _shaped(message, mine if message.author_id == viewer_id else theirs)

    return shaped


def page_json(
    rows: Sequence[StoredMessage], *, more: bool, staff: bool, viewer_id: int
) -> dict[str, Any]:
    """A page of history in MessagePage's JSON shape."""
    shaped = shaper(staff=staff, viewer_id=viewer_id)
    return {"messages": [shaped(row) for row in rows], "has_more": more}
