"""Pictures and files shown with a notice: checked when a revision lists them, kept per
revision (``notice_attachments``), and loaded with notices (one query per list).

Attaching, as for messages (``uploads.access.check_own``): each upload is the attaching
person's own and listed once. An upload shows in one place: one already attached to a
message, or to another notice, is refused. A revision may list again what an earlier
revision of the same notice showed, whoever uploaded it (an administrator revising a
trainer's notice keeps the trainer's picture). Who may download them:
``notices.actions.reads_attachment``, a rule of ``uploads.access.Readers``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from counterline.errors import UserError
from counterline.i18n import N_
from counterline.messages.attachments import attachment_out
from counterline.messages.models import MessageAttachment
from counterline.messages.schemas import AttachmentOut
from counterline.notices.models import Notice, NoticeAttachment
from counterline.uploads.access import UPLOAD_COLUMNS, check_own
from counterline.uploads.models import Upload

ON_A_MESSAGE = N_("Attachment %(id)s is already attached to a message in a room.")
ON_ANOTHER_NOTICE = N_("Attachment %(id)s is already attached to another notice.")

_IDS = bindparam("ids", expanding=True)
# Locked (PostgreSQL): two notices listing the same upload at once take turns, and the
# second then sees the first's rows (SQLite's writers take turns anyway).
_UPLOADS = select(*UPLOAD_COLUMNS).where(Upload.id.in_(_IDS)).with_for_update()
_IN_MESSAGES = select(MessageAttachment.upload_id).where(MessageAttachment.upload_id.in_(_IDS))
_IN_NOTICES = select(NoticeAttachment.upload_id, NoticeAttachment.notice_id).where(
    NoticeAttachment.upload_id.in_(_IDS)
)
_OF_CURRENT = (
    select(NoticeAttachment.notice_id, *UPLOAD_COLUMNS)
    .select_from(NoticeAttachment)
    .join(Upload, Upload.id == NoticeAttachment.upload_id)
    .join(
        Notice,
        and_(Notice.id == NoticeAttachment.notice_id, Notice.revision == NoticeAttachment.revision),
    )
    .where(NoticeAttachment.notice_id.in_(_IDS))
    .order_by(NoticeAttachment.notice_id, NoticeAttachment.position)
)
_OF_REVISION = (
    select(*UPLOAD_COLUMNS)
    .select_from(NoticeAttachment)
    .join(Upload, Upload.id == NoticeAttachment.upload_id)
    .where(
        NoticeAttachment.notice_id == bindparam("notice_id"),
        NoticeAttachment.revision == bindparam("revision"),
    )
    .order_by(NoticeAttachment.position)
)
_SHOWN_IN = (
    select(NoticeAttachment.notice_id, NoticeAttachment.revision)
    .where(NoticeAttachment.upload_id == bindparam("id"))
    .distinct()
)
_LINK = insert(NoticeAttachment)


async def check(
    db: AsyncSession, actor_id: int, notice_id: int | None, upload_ids: Sequence[int]
) -> list[AttachmentOut]:
    """The attachments a new revision (of ``notice_id``; None: a new notice) lists, in
    order; UserError saying which one is refused and why (see the module's docstring)."""
    if not upload_ids:
        return []
    connection = await db.connection()
    ids = {"ids": list(upload_ids)}
    found = {row.id: row for row in await connection.execute(_UPLOADS, ids)}
    on_notices = {
        row.upload_id: row.notice_id for row in await connection.execute(_IN_NOTICES, ids)
    }
    kept = {upload_id for upload_id, shown in on_notices.items() if shown == notice_id}
    refused = check_own(found, actor_id, upload_ids, kept=kept)
    if refused is not None:
        raise refused
    in_messages = set((await connection.execute(_IN_MESSAGES, ids)).scalars())
    for upload_id in upload_ids:
        if upload_id in in_messages:
            raise UserError(ON_A_MESSAGE, id=upload_id)
        if upload_id in on_notices and upload_id not in kept:
            raise UserError(ON_ANOTHER_NOTICE, id=upload_id)
    return [attachment_out(found[upload_id]) for upload_id in upload_ids]


async def link(db: AsyncSession, notice_id: int, revision: int, upload_ids: Sequence[int]) -> None:
    """Show the uploads with this revision, in order."""
    rows = [
        {"notice_id": notice_id, "revision": revision, "position": position, "upload_id": upload}
        for position, upload in enumerate(upload_ids)
    ]
    if rows:
        connection = await db.connection()
        await connection.execute(_LINK, rows)


async def of_current(db: AsyncSession, notice_ids: Sequence[int]) -> dict[int, list[AttachmentOut]]:
    """Each notice's current revision's attachments, in order: one query for all."""
    shown: dict[int, list[AttachmentOut]] = defaultdict(list)
    if not notice_ids:
        return shown
    connection = await db.connection()
    for row in await connection.execute(_OF_CURRENT, {"ids": list(notice_ids)}):
        shown[row.notice_id].append(attachment_out(row))
    return shown


async def of_revision(db: AsyncSession, notice_id: int, revision: int) -> list[AttachmentOut]:
    """What a revision showed, in order (the record keeps every revision's list)."""
    connection = await db.connection()
    rows = await connection.execute(_OF_REVISION, {"notice_id": notice_id, "revision": revision})
    return [attachment_out(row) for row in rows]


async def notices_showing(db: AsyncSession, upload_id: int) -> list[tuple[int, int]]:
    """(notice id, revision) of each revision that shows the upload."""
    connection = await db.connection()
    rows = await connection.execute(_SHOWN_IN, {"id": upload_id})
    return [(row.notice_id, row.revision) for row in rows]
