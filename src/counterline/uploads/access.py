"""Who may download an upload, and which uploads a person may attach.

``uploads`` knows bytes, not messages or notices. An upload's uploader may always download
it (a form shows it before it is posted). Anyone else may only if a capability that shows it
says so: each registers a rule with :meth:`Readers.allow` (services.py wires the members of
a message's room, messages/attachments.py, and a notice's readers, notices/actions.py), and
the first rule that admits the viewer wins. Everyone else gets 404, as for a file that does
not exist. The download routes are in ``uploads.downloads``.

Attaching: :func:`check_own` is the check every capability makes first (each upload exists,
is the attaching person's own, and is listed once); what "already attached" means is each
capability's own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select

from counterline.accounts.models import User
from counterline.db import Unit
from counterline.errors import NotFound, UserError
from counterline.i18n import N_
from counterline.uploads.models import Upload

NOT_YOURS = N_("Attachment %(id)s is not one of your uploads.")
LISTED_TWICE = N_("Attachment %(id)s is listed twice.")
NO_UPLOAD = N_("There is no such file, or you may not see it.")

UPLOAD_COLUMNS = (
    Upload.id,
    Upload.uploader_id,
    Upload.blob_sha256,
    Upload.name,
    Upload.content_type,
    Upload.size,
    Upload.kind,
    Upload.width,
    Upload.height,
    Upload.thumb_sha256,
    Upload.thumb_width,
    Upload.thumb_height,
)
_ONE = select(*UPLOAD_COLUMNS).where(Upload.id == bindparam("id"))

# (unit, viewer, upload id) → whether the viewer may download it.
ReaderRule = Callable[[Unit, User, int], Awaitable[bool]]


def check_own(
    found: Mapping[int, Any],
    uploader_id: int,
    upload_ids: Sequence[int],
    *,
    kept: Collection[int] = (),
) -> UserError | None:
    """Why these uploads may not be attached by ``uploader_id``, or None. ``found`` maps the
    ids of those that exist to their rows (with ``uploader_id``); ``kept`` are uploads the
    thing already shows (an earlier revision's), which stay whoever uploaded them."""
    seen: set[int] = set()
    for upload_id in upload_ids:
        if upload_id in seen:
            return UserError(LISTED_TWICE, id=upload_id)
        seen.add(upload_id)
        row = found.get(upload_id)
        if row is None or (row.uploader_id != uploader_id and upload_id not in kept):
            return UserError(NOT_YOURS, id=upload_id)
    return None


class Readers:
    """The rules that let someone other than its uploader download an upload."""

    def __init__(self) -> None:
        self._rules: list[ReaderRule] = []

    def allow(self, rule: ReaderRule) -> None:
        self._rules.append(rule)

    async def visible(self, unit: Unit, viewer: User, upload_id: int) -> Any:
        """The upload's row, if ``viewer`` may download it; else NotFound."""
        connection = await unit.session.connection()
        row = (await connection.execute(_ONE, {"id": upload_id})).first()
        if row is None:
            raise NotFound(NO_UPLOAD)
        if row.uploader_id == viewer.id:
            return row
        for rule in self._rules:
            if await rule(unit, viewer, upload_id):
                return row
        raise NotFound(NO_UPLOAD)
