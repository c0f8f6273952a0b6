"""The console's "Integrations" page, /admin/integrations: incoming webhooks, bots and
outgoing webhooks, listed here from their own queries; each change is a call to their JSON
API (/api/v1/hooks, /api/v1/admin/bots, /api/v1/admin/outgoing-hooks) from
static/js/admin_integrations.js, which shows a new secret once in a dialog."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.admin.console import ConsoleAdmin, console_context
from counterline.bots import queries as bot_queries
from counterline.deps import ServicesDep
from counterline.hooks import queries as hook_queries
from counterline.i18n import N_, gettext
from counterline.rooms import queries as room_queries
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)

# What the page's script says, in the page's language.
STRINGS = {
    "failed": N_("That did not work. Please try again."),
    "hook_created": N_("Incoming webhook created"),
    "hook_secret": N_(
        "Its address, shown only now: give it to the tool that posts. Anyone who has it can "
        "post into the room."
    ),
    "bot_created": N_("Bot created"),
    "bot_secret": N_(
        "Its API token, shown only now: the bot sends it as Authorization: Bearer <token>."
    ),
    "outgoing_created": N_("Outgoing webhook created"),
    "outgoing_secret": N_(
        "Its token, shown only now: every call carries it, so the receiver knows it is us."
    ),
    "copied": N_("Copied."),
    "confirm_revoke_hook": N_("Revoke the webhook %(name)s? Its address stops working."),
    "confirm_delete_bot": N_("Deactivate the bot %(name)s? Its token stops working."),
    "confirm_revoke_outgoing": N_("Revoke the outgoing webhook %(name)s? No more calls."),
    "revoked": N_("Revoked."),
    "choose_room": N_("Choose a room first."),
}


@router.get("/admin/integrations")
async def integrations_page(
    request: Request, identity: ConsoleAdmin, services: ServicesDep
) -> Response:
    """Incoming webhooks, bots and outgoing webhooks, with forms to add and revoke."""
    async with services.reading() as unit:
        context = await console_context(unit, identity, services, "integrations")
        hooks = await hook_queries.list_live_hooks(unit.session)
        bots = await bot_queries.list_bots(unit.session)
        bot_rooms = await bot_queries.rooms_of(unit.session, [row[1].id for row in bots])
        outgoing = await bot_queries.list_live_outgoing(unit.session)
        rooms = await room_queries.list_named_rooms(unit.session)
    boot = {
        "csrf_token": identity.csrf_token,
        "strings": {key: gettext(value) for key, value in STRINGS.items()},
    }
    return render(
        request,
        "admin/integrations.html",
        {
            **context,
            "hooks": [(row[0], row.room_name, row.creator) for row in hooks],
            "bots": [
                (row[1], [name for _, name in bot_rooms[row[1].id]], row.creator, row[0])
                for row in bots
            ],
            "outgoing": [(row[0], row.room_name, row.creator) for row in outgoing],
            "rooms": [row[0] for row in rooms if row[0].archived_at is None],
            "boot_json": encode_for_page(boot),
        },
    )
