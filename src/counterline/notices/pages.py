"""The notice pages: /notices (mine, and those I oversee), /notices/new (the publishing form,
static/js/notice_new.js), /notices/{id} (read, acknowledge, take the quiz:
static/js/notice_read.js) and /notices/{id}/compliance (per-branch table and a
server-rendered SVG bar chart, the names still missing)."""

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
from counterline.notices import actions
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
            "boot_json": _boot(identity, services, me),
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
    return render(
        request,
        "notices/notice.html",
        {
            "identity": identity,
            "me": me,
            "notice": notice,
            "boot_json": _boot(identity, services, me, notice_id=notice.id),
        },
    )


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
            "boot_json": _boot(identity, services, me, notice_id=out.notice_id),
        },
    )
