"""The portal over HTTP: ``GET /api/v1/portal`` for everyone signed in, favourites and use
counts, the administrators' API under /api/v1/admin/portal, and each entry's icon."""

from __future__ import annotations

from fastapi import APIRouter, Response

from counterline.accounts.guards import AdminOnly, Identified
from counterline.accounts.policy import MANAGES_PORTAL, allows
from counterline.api_errors import BODY_ERRORS, error_responses
from counterline.deps import ClientIp, ServicesDep
from counterline.errors import NotFound
from counterline.ids import Id
from counterline.portal import actions, queries
from counterline.portal.schemas import EntryIn, EntryList, EntryOut, FavouritesIn, Portal
from counterline.responses import json_of
from counterline.uploads.download import blob_response, head_of
from counterline.uploads.sniffing import picture_type

router = APIRouter(tags=["portal"])  # under /api/v1
icons = APIRouter(include_in_schema=False)  # at the site's root, for <img>
_ICON = {"description": "The picture.", "content": {"image/*": {}}}


@router.get("/portal", response_model=Portal, responses=error_responses(401, 403))
async def read_portal(identity: Identified, services: ServicesDep) -> Response:
    """The business systems the caller may see (by their branch and role), with the last
    status check of each web system: favourites first in the caller's order, then the most
    used, then the administrators' order."""
    async with services.reading() as unit:
        items = await actions.portal_of(unit, identity.user)
    return json_of(Portal(entries=items, check_seconds=services.settings.portal_check_seconds))


@router.put(
    "/portal/favourites",
    response_model=Portal,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def set_favourites(
    favourites: FavouritesIn, identity: Identified, services: ServicesDep
) -> Response:
    """Make these entries the caller's favourites, in this order (an empty list: none)."""
    async with services.transaction() as unit:
        await actions.set_favourites(unit, identity.user, favourites.entry_ids)
        items = await actions.portal_of(unit, identity.user)
    return json_of(Portal(entries=items, check_seconds=services.settings.portal_check_seconds))


@router.post(
    "/portal/{entry_id}/opened", status_code=204, responses=error_responses(401, 403, 404, 422)
)
async def count_opening(entry_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """The caller opened this entry: counts for their "most used" order."""
    async with services.transaction() as unit:
        await actions.count_use(unit, identity.user, entry_id)
    return Response(status_code=204)


@router.get("/admin/portal", response_model=EntryList, responses=error_responses(401, 403))
async def list_entries(identity: AdminOnly, services: ServicesDep) -> Response:
    """Every portal entry not deleted, with who sees it and its last check (administrators)."""
    async with services.reading() as unit:
        entries = await actions.admin_entries(unit)
    return json_of(EntryList(entries=entries))


@router.post(
    "/admin/portal",
    status_code=201,
    response_model=EntryOut,
    responses=error_responses(*BODY_ERRORS, 401, 403),
)
async def create_entry(
    new: EntryIn, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Add a business system to the portal (administrators). A web entry's `url` is http(s);
    a client program's, the scheme its installer registers (`ccbclient://...`)."""
    async with services.transaction() as unit:
        entry = await actions.create_entry(unit, identity.user, new, client_ip=ip)
        shown = await actions.admin_entry(unit, entry.id)
    return json_of(shown, 201)


@router.put(
    "/admin/portal/{entry_id}",
    response_model=EntryOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
async def update_entry(
    entry_id: Id, changed: EntryIn, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Replace an entry's fields and audience (administrators). A changed address is
    "unknown" until its next check."""
    async with services.transaction() as unit:
        await actions.update_entry(unit, identity.user, entry_id, changed, client_ip=ip)
        shown = await actions.admin_entry(unit, entry_id)
    return json_of(shown)


@router.delete(
    "/admin/portal/{entry_id}", status_code=204, responses=error_responses(401, 403, 404, 422)
)
async def delete_entry(
    entry_id: Id, identity: AdminOnly, services: ServicesDep, ip: ClientIp
) -> Response:
    """Remove an entry from everyone's portal (administrators); the audit log keeps it."""
    async with services.transaction() as unit:
        await actions.delete_entry(unit, identity.user, entry_id, client_ip=ip)
    return Response(status_code=204)


@icons.get("/portal/icons/{entry_id}", responses={200: _ICON})
async def entry_icon(entry_id: Id, identity: Identified, services: ServicesDep) -> Response:
    """An entry's icon (its thumbnail), for those who see the entry and administrators."""
    async with services.reading() as unit:
        if allows(MANAGES_PORTAL, identity.user.role):
            entry = await queries.find_entry(unit.session, entry_id)
        else:
            entry = await actions.visible_entry(unit, identity.user, entry_id)
        upload_id = entry.icon_upload_id if entry is not None else None
        upload = await queries.find_upload(unit.session, upload_id) if upload_id else None
    if upload is None:
        raise NotFound(actions.NO_SUCH_ENTRY)
    store = services.uploads.store
    key = upload.thumb_sha256 or upload.blob_sha256
    content_type = upload.content_type
    if key != upload.blob_sha256:
        content_type = picture_type(await head_of(store, key)) or "image/jpeg"
    response = blob_response(store, key, name=upload.name, content_type=content_type)
    response.headers["Cache-Control"] = "private, max-age=300"  # the icon may be replaced
    return response
