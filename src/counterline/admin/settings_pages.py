"""The console's "Settings" page (/admin/settings): one form; a field left empty takes the
config file's value (shown as its placeholder). A value that cannot be used shows the page
again with the reason next to its field; nothing is saved then."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from counterline.admin.console import ConsoleAdmin, console_context
from counterline.admin.console_routes import reload_settings
from counterline.deps import ClientIp, ServicesDep, check_form_token
from counterline.i18n import N_, gettext
from counterline.services import Services
from counterline.site import actions as site_actions
from counterline.site import values
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Form(max_length=200)]
Field = Annotated[str, Form(max_length=1000)]
_ZONES = sorted(available_timezones())
# What the logo picker (static/js/admin_settings.js) says, in the page's language.
LOGO_STRINGS = {
    "uploading": N_("Uploading…"),
    "uploaded": N_("Uploaded. Save the settings to use it as the logo."),
    "not_a_picture": N_("That is not a picture: choose a PNG, JPEG or WebP image."),
    "failed": N_("That did not work. Please try again."),
}


async def _settings_page(
    request: Request,
    identity: Any,
    services: Services,
    *,
    entered: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
) -> Response:
    async with services.reading() as unit:
        context = await console_context(unit, identity, services, "settings")
        await services.site.load(unit)
    site = services.site
    shown = {key: "" if value is None else str(value) for key, value in site.stored.items()}
    return render(
        request,
        "admin/settings.html",
        {
            **context,
            "values": {key: shown.get(key, "") for key in values.KEYS} | (entered or {}),
            "config": {key: _plain(value) for key, value in site.config_values().items()},
            "from_console": site.stored.keys(),
            "errors": errors or {},
            "saved": saved,
            "zones": _ZONES,
            "boot_json": encode_for_page(
                {
                    "csrf_token": identity.csrf_token,
                    "strings": {key: gettext(text) for key, text in LOGO_STRINGS.items()},
                }
            ),
            "limits": {
                "edit_max": values.EDIT_MINUTES_MAX,
                "upload_max": values.UPLOAD_MB_MAX,
                "retention_min": values.RETENTION_DAYS_MIN,
                "retention_max": values.RETENTION_DAYS_MAX,
            },
        },
        status_code=400 if errors else 200,
    )


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


@router.get("/admin/settings")
async def settings_page(
    request: Request, identity: ConsoleAdmin, services: ServicesDep, saved: bool = False
) -> Response:
    """The settings form, with what the config file says for each."""
    return await _settings_page(request, identity, services, saved=saved)


@router.post("/admin/settings")
async def settings_submit(
    request: Request,
    identity: ConsoleAdmin,
    services: ServicesDep,
    ip: ClientIp,
    csrf_token: Token = "",
    site_name: Field = "",
    site_logo: Field = "",
    default_language: Field = "",
    time_zone: Field = "",
    message_edit_minutes: Field = "",
    max_upload_mb: Field = "",
    retention_days: Field = "",
) -> Response:
    """Save every field: an empty one goes back to the config file's value."""
    check_form_token(request, csrf_token, identity.csrf_token)
    entered = {
        values.SITE_NAME: site_name,
        values.SITE_LOGO: site_logo,
        values.DEFAULT_LANGUAGE: default_language,
        values.TIME_ZONE: time_zone,
        values.EDIT_MINUTES: message_edit_minutes,
        values.UPLOAD_MB: max_upload_mb,
        values.RETENTION_DAYS: retention_days,
    }
    try:
        async with services.transaction() as unit:
            await site_actions.change_settings(unit, identity.user, entered, client_ip=ip)
    except site_actions.SettingsInvalid as refused:
        return await _settings_page(
            request, identity, services, entered=entered, errors=refused.fields()
        )
    await reload_settings(services)
    return RedirectResponse("/admin/settings?saved=true", status_code=303)
