"""The notice pages: /notices (mine, and those I oversee), /notices/new (the publishing form,
static/js/notice_new.js, attachments through static/js/attachments_tray.js),
/notices/{id}/revise (the same form in revise mode, prefilled from ``drafts``), /notices/{id}
(read, with its pictures and files; acknowledge, take the quiz: static/js/notice_read.js)
and /notices/{id}/compliance (per-branch table and a server-rendered SVG bar chart, the
names still missing)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from counterline.accounts import policy
from counterline.accounts import views as account_views
from counterline.accounts.guards import Identified
from counterline.accounts.policy import Role
from counterline.branches.queries import list_branches
from counterline.deps import ServicesDep
from counterline.i18n import current_language, gettext
from counterline.ids import Id
from counterline.messages.schemas import AttachmentOut
from counterline.notices import actions, drafts
from counterline.notices.queries import MAX_MISSING
from counterline.notices.routes import Publisher
from counterline.notices.schemas import ComplianceOut
from counterline.web.client_strings import client_strings
from counterline.web.page_data import encode_for_page
from counterline.web.templating import render

router = APIRouter(include_in_schema=False)
ROLE_NAMES = {
    Role.clerk: "Clerks",
    Role.trainer: "Trainers",
    Role.manager: "Managers",
    Role.admin: "Administrators",
}


def _boot(identity: object, services: ServicesDep, me: object, **extra: object) -> str:
    return encode_for_page(
        {
            "me": me.model_dump(mode="json"),  # type: ignore[attr-defined]
            "csrf_token": identity.csrf_token,  # type: ignore[attr-defined]
            "time_zone": services.site.time_zone,
            "language": current_language.get(),
            "strings": client_strings(),
            **extra,
        }
    )


@router.get("/notices")
async def notices_page(request: Request, identity: Identified, services: ServicesDep) -> Response:
    """My notices with my status; for publishers, the notices they oversee."""
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        mine = await actions.my_notices(unit, identity.user, open_only=False)
        overseen = await actions.published_notices(unit, identity.user)
    return render(
        request,
        "notices/list.html",
        {
            "identity": identity,
            "me": me,
            "mine": mine,
            "overseen": overseen,
            "publishes": policy.publishes_notices(identity.user.role),
        },
    )


@router.get("/notices/new")
async def new_notice_page(request: Request, identity: Publisher, services: ServicesDep) -> Response:
    """The publishing form: title, body, audience, dates, quiz."""
    user = identity.user
    async with services.reading() as unit:
        me = await account_views.describe(unit, user, services.presence)
        branches = await list_branches(unit.session)
    if not policy.oversees_all_notices(user.role):
        branches = [branch for branch in branches if branch.id == user.branch_id]
    return render(
        request,
        "notices/new.html",
        {
            "identity": identity,
            "me": me,
            "branches": branches,
            "roles": [(str(role), gettext(name)) for role, name in ROLE_NAMES.items()],
            "own_branch_only": not policy.oversees_all_notices(user.role),
            "boot_json": _boot(
                identity,
                services,
                me,
                mode="publish",
                max_upload_bytes=services.site.max_upload_bytes,
            ),
        },
    )


@dataclass(frozen=True, slots=True)
class FixedAudience:
    """A notice's audience as the revise form shows it (a revision does not change it)."""

    everyone: bool
    scope: str | None  # a manager author's branch, which "everyone" is cut to
    branches: list[str]
    roles: list[str]
    people: list[str]


@router.get("/notices/{notice_id}/revise")
async def revise_notice_page(
    request: Request, notice_id: Id, identity: Publisher, services: ServicesDep
) -> Response:
    """The publishing form in revise mode, for the notice's author or an administrator:
    body, due date, attachments and quiz (right answers included) as they are now; title,
    audience and effective date shown, not changed; what changed; ask again or not."""
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        drafted = await drafts.draft_revision(unit, identity.user, notice_id)
        branches = {branch.id: branch.name for branch in await list_branches(unit.session)}
    draft = drafted.draft
    audience = FixedAudience(
        everyone=draft.audience.all,
        scope=branches.get(drafted.scope_branch_id or 0),
        branches=[branches[i] for i in draft.audience.branch_ids if i in branches],
        roles=[gettext(ROLE_NAMES[role]) for role in draft.audience.roles],
        people=drafted.people,
    )
    return render(
        request,
        "notices/new.html",
        {
            "identity": identity,
            "me": me,
            "draft": draft,
            "audience": audience,
            "boot_json": _boot(
                identity,
                services,
                me,
                mode="revise",
                draft=draft.model_dump(mode="json"),
                max_upload_bytes=services.site.max_upload_bytes,
            ),
        },
    )


@router.get("/notices/{notice_id}")
async def notice_page(
    request: Request, notice_id: Id, identity: Identified, services: ServicesDep
) -> Response:
    """A notice: its body, and the acknowledgement button or the quiz."""
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        notice = await actions.read_notice(unit, identity.user, notice_id)
        may_revise = await drafts.revisable(unit, identity.user, notice_id)
    return render(
        request,
        "notices/notice.html",
        {
            "identity": identity,
            "me": me,
            "notice": notice,
            "may_revise": may_revise,
            "shown": [shown_attachment(attachment) for attachment in notice.attachments],
            "boot_json": _boot(
                identity,
                services,
                me,
                notice_id=notice.id,
                attachments=[a.model_dump(mode="json") for a in notice.attachments],
            ),
        },
    )


# As the file cards of messages (static/js/message_content.js): the type from the name's
# extension (else the content type), a colour per family, the size in B/KB/MB/GB.
FILE_FAMILIES = (
    ("pdf", {"PDF"}),
    ("doc", {"DOC", "DOCX", "ODT", "RTF", "WPS", "TXT", "MD"}),
    ("sheet", {"XLS", "XLSX", "ODS", "CSV", "ET"}),
    ("slides", {"PPT", "PPTX", "ODP", "DPS"}),
    ("archive", {"ZIP", "RAR", "7Z", "GZ", "TAR"}),
)
THUMB_BOX = 400  # uploads/pictures.py: a picture smaller than this is its own thumbnail


@dataclass(frozen=True, slots=True)
class Shown:
    """An attachment as the notice page shows it: a picture's box, a file's card."""

    attachment: AttachmentOut
    label: str
    family: str
    size: str
    width: int | None
    height: int | None


def human_size(size: int) -> str:
    value, unit = float(size), 0
    units = ("B", "KB", "MB", "GB")
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    digits = 0 if unit == 0 or value >= 100 else 1
    return f"{value:.{digits}f}".removesuffix(".0") + f" {units[unit]}"


def shown_attachment(attachment: AttachmentOut) -> Shown:
    name, dot = attachment.name, attachment.name.rfind(".")
    if dot > 0 and len(name) - dot <= 6:
        label = name[dot + 1 :].upper()
    else:
        sub = attachment.content_type.split("/")[-1].split(";")[0]
        label = sub.replace("+", ".").replace("-", ".").split(".")[-1][:5].upper() or "FILE"
    family = next((f for f, labels in FILE_FAMILIES if label in labels), "other")
    width, height = attachment.thumb_width, attachment.thumb_height
    if attachment.thumbnail_url is None and attachment.width and attachment.height:
        scale = min(1, THUMB_BOX / attachment.width, THUMB_BOX / attachment.height)
        width = max(1, round(attachment.width * scale))
        height = max(1, round(attachment.height * scale))
    return Shown(attachment, label, family, human_size(attachment.size), width, height)


@dataclass(frozen=True, slots=True)
class Bar:
    branch: str
    y: int
    done: float
    acknowledged: float
    label: str


CHART_WIDTH = 600
BAR_LEFT = 160
BAR_WIDTH = CHART_WIDTH - BAR_LEFT - 70
ROW = 34


def chart_bars(out: ComplianceOut) -> list[Bar]:
    """Per branch: the widths of the done part and of the acknowledged-not-done part."""
    bars = []
    for index, branch in enumerate(out.branches):
        total = max(branch.audience, 1)
        done = BAR_WIDTH * branch.passed / total
        acknowledged = BAR_WIDTH * max(branch.acknowledged - branch.passed, 0) / total
        bars.append(
            Bar(
                branch.branch,
                10 + index * ROW,
                round(done, 1),
                round(acknowledged, 1),
                f"{branch.passed}/{branch.audience}",
            )
        )
    return bars


@router.get("/notices/{notice_id}/compliance")
async def compliance_page(
    request: Request, notice_id: Id, identity: Publisher, services: ServicesDep
) -> Response:
    """Per branch: audience, acknowledged, done, overdue; a bar chart; who is missing."""
    async with services.reading() as unit:
        me = await account_views.describe(unit, identity.user, services.presence)
        out = await actions.compliance(unit, identity.user, notice_id, missing_limit=MAX_MISSING)
        may_revise = await drafts.revisable(unit, identity.user, notice_id)
    branch_names = {branch.branch_id: branch.branch for branch in out.branches}
    return render(
        request,
        "notices/compliance.html",
        {
            "identity": identity,
            "me": me,
            "out": out,
            "bars": chart_bars(out),
            "chart": {
                "width": CHART_WIDTH,
                "height": 20 + ROW * max(len(out.branches), 1),
                "left": BAR_LEFT,
                "bar_width": BAR_WIDTH,
            },
            "branch_names": branch_names,
            "may_revise": may_revise,
            "boot_json": _boot(identity, services, me, notice_id=out.notice_id),
        },
    )
